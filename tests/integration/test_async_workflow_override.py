"""A workflow subclass given to ``create_connection(workflow=...)`` sees the
outcome through its overridden ``_report_completion_and_cleanup(result)``,
as with pika 1.4.4, on every adapter: the open connection on success, the
``AMQPConnectionWorkflowFailed`` on failure, before ``on_done`` gets it.
"""

from pika.adapters.utils import connection_workflow
from async_harness import broker_params, closed_port


class RecordingWorkflow(connection_workflow.AMQPConnectionWorkflow):
    """Records what goes through the overridable report method."""

    def __init__(self) -> None:
        super().__init__()
        self.reported = []

    def _report_completion_and_cleanup(self, result):
        self.reported.append(result)
        super()._report_completion_and_cleanup(result)


def _create(flow, configs):
    workflow = RecordingWorkflow()
    outcome = []

    def on_done(result):
        outcome.append(result)
        if hasattr(result, 'close') and getattr(result, 'is_open', False):
            result.add_on_close_callback(lambda *_: flow.finish())
            result.close()
        else:
            flow.finish()

    flow.runner.connection_class.create_connection(
        configs,
        flow.cb(on_done),
        custom_ioloop=flow.runner.loop,
        workflow=workflow)
    flow.run(timeout=20)
    return workflow, outcome


def test_success_goes_through_the_override(flow):
    workflow, outcome = _create(flow, [broker_params()])
    assert len(outcome) == 1
    assert isinstance(outcome[0], flow.runner.connection_class)
    assert workflow.reported == outcome


def test_failure_goes_through_the_override(flow):
    params = broker_params(port=closed_port(),
                           connection_attempts=1,
                           retry_delay=0)
    workflow, outcome = _create(flow, [params])
    assert len(outcome) == 1
    assert isinstance(outcome[0],
                      connection_workflow.AMQPConnectionWorkflowFailed)
    assert workflow.reported == outcome
    assert outcome[0].exceptions, 'the failed attempts are listed'
