"""``pika diagnose`` names the step that fails, and why, in plain words.

Each failure is made for real against the test broker: a closed port, a
wrong password, a missing virtual host, plain AMQP to the TLS port, TLS
without the CA, TLS to the plain port; and the success case reports what
the broker told.
"""

import os
import socket

import pytest

from cli_runner import HOST, PORT, TLS_PORT, run, url

CERTS_DIR = os.environ.get('PIKA_TEST_CERTS_DIR', '/tmp/pika-test-broker/certs')
CA = os.path.join(CERTS_DIR, 'ca_certificate.pem')


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def statuses(report: dict) -> dict:
    return {step['step']: step['status'] for step in report['steps']}


def test_healthy_broker_reports_version_capabilities_and_tuning() -> None:
    result = run('diagnose', url(), '--json', '--round-trips', '5')
    assert result.code == 0, result
    report = result.json()
    assert report['ok'] is True
    assert report['failed_step'] is None
    assert report['exit_code'] == 0
    assert statuses(report) == {
        'resolve': 'ok',
        'tcp': 'ok',
        'tls': 'skip',
        'amqp': 'ok',
        'authenticate': 'ok',
        'vhost': 'ok',
        'channel': 'ok',
        'round-trip': 'ok',
    }
    broker = report['broker']
    assert broker['product'] == 'RabbitMQ'
    assert broker['version'].count('.') >= 2
    assert broker['capabilities']['publisher_confirms'] is True
    negotiated = report['negotiated']
    assert 4096 <= negotiated['frame_max'] <= 131072
    assert negotiated['channel_max'] > 0
    assert isinstance(negotiated['heartbeat'], int)
    rtt = report['round_trip_ms']
    assert rtt['samples'] == 5
    assert 0 < rtt['min'] <= rtt['median'] <= rtt['max']
    assert report['url'] == url(password='***')


def test_text_report_has_a_line_per_step_and_the_broker() -> None:
    result = run('diagnose', url())
    assert result.code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == 'pika diagnose %s' % url(password='***')
    assert 'guest:guest' not in result.stdout
    assert any(line.startswith('broker:       RabbitMQ ') for line in lines)
    assert any(line.startswith('negotiated:   frame_max ') for line in lines)
    assert lines[-1] == 'OK: every step passed'


def test_closed_port_fails_at_tcp_with_exit_3() -> None:
    port = closed_port()
    result = run('diagnose', url(port=port), '--json')
    assert result.code == 3, result
    report = result.json()
    assert report['failed_step'] == 'tcp'
    assert 'connection refused' in report['message']
    assert 'nothing listens on port %d' % port in report['message']
    assert statuses(report)['authenticate'] == 'not-run'


def test_unknown_host_fails_at_name_resolution() -> None:
    result = run('diagnose', url(host='no-such-host.invalid'), '--json')
    assert result.code == 3, result
    report = result.json()
    assert report['failed_step'] == 'resolve'
    assert 'name resolution failed' in report['message']


def test_wrong_password_fails_at_authentication_with_exit_4() -> None:
    result = run('diagnose', url(password='not-the-password'), '--json')
    assert result.code == 4, result
    report = result.json()
    assert report['failed_step'] == 'authenticate'
    assert 'authentication refused' in report['message']
    assert 'ACCESS_REFUSED' in report['message']
    assert 'not-the-password' not in result.stdout + result.stderr


def test_missing_vhost_fails_at_vhost_after_authenticating() -> None:
    result = run('diagnose', url(vhost='no-such-vhost'), '--json')
    assert result.code == 4, result
    report = result.json()
    assert report['failed_step'] == 'vhost'
    assert statuses(report)['authenticate'] == 'ok'
    assert "virtual host 'no-such-vhost'" in report['message']


@pytest.mark.tls
def test_plain_amqp_to_the_tls_port_says_use_amqps() -> None:
    result = run('diagnose', url(port=TLS_PORT), '--json')
    assert result.code == 3, result
    report = result.json()
    assert report['failed_step'] == 'amqp'
    assert 'amqps://' in report['message']


@pytest.mark.tls
def test_tls_without_the_ca_fails_at_the_certificate_check() -> None:
    result = run('diagnose', url(scheme='amqps', port=TLS_PORT), '--json')
    assert result.code == 3, result
    report = result.json()
    assert report['failed_step'] == 'tls'
    assert 'certificate was not accepted' in report['message']
    assert '--cacert' in report['message']


@pytest.mark.tls
def test_tls_with_the_ca_passes_every_step() -> None:
    result = run('diagnose', url(scheme='amqps', port=TLS_PORT), '--cacert', CA,
                 '--json')
    assert result.code == 0, result
    report = result.json()
    tls = [step for step in report['steps'] if step['step'] == 'tls'][0]
    assert tls['status'] == 'ok'
    assert 'TLSv1.' in tls['detail']


@pytest.mark.tls
def test_insecure_tls_says_the_certificate_was_not_verified() -> None:
    result = run('diagnose', url(scheme='amqps', port=TLS_PORT), '--insecure')
    assert result.code == 0, result
    assert 'NOT verified' in result.stdout


def test_tls_to_the_plain_port_says_it_does_not_speak_tls() -> None:
    result = run('diagnose', url(scheme='amqps', port=PORT), '--insecure',
                 '--json')
    assert result.code == 3, result
    report = result.json()
    assert report['failed_step'] == 'tls'
    assert 'does not seem to speak TLS' in report['message']


def test_a_silent_server_times_out_at_the_protocol_step() -> None:
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    try:
        port = listener.getsockname()[1]
        result = run('diagnose', url(port=port), '--timeout', '1', '--json')
    finally:
        listener.close()
    assert result.code == 3, result
    report = result.json()
    assert report['failed_step'] == 'amqp'
    assert 'no answer to the AMQP protocol header within 1 s' in (
        report['message'])


@pytest.mark.parametrize('case, code, words', [
    ('password', 4, 'authentication refused'),
    ('vhost', 4, "virtual host 'no-such-vhost'"),
    ('port', 3, 'refused'),
])
def test_other_commands_explain_connection_failures(case: str, code: int,
                                                    words: str) -> None:
    target = {
        'password': url(password='sekret-pw'),
        'vhost': url(vhost='no-such-vhost'),
        'port': url(port=closed_port()),
    }[case]
    result = run('get', 'any-queue', '--url', target, '--json')
    assert result.code == code, result
    assert words in result.json()['error']['message']
    assert result.stderr.startswith('pika: error: ')
    assert 'sekret-pw' not in result.stdout + result.stderr


def test_diagnose_takes_the_url_from_pika_url() -> None:
    result = run('diagnose', '--json', env={'PIKA_URL': url(host=HOST)})
    assert result.code == 0, result
    assert result.json()['ok'] is True


def test_quiet_diagnosis_prints_nothing_when_every_step_passes() -> None:
    result = run('diagnose', url(), '--quiet')
    assert result.code == 0, result
    assert result.stdout == ''
    assert 'FAILED' not in result.stderr


def test_quiet_diagnosis_prints_only_the_failed_step() -> None:
    result = run('diagnose', url(password='not-the-password'), '-q')
    assert result.code == 4, result
    assert result.stdout == ''
    assert result.stderr.startswith(
        "pika: error: FAILED at step 'authenticate': ")
    assert result.stderr.count('\n') == 1, result.stderr


def test_negative_round_trips_is_a_usage_error() -> None:
    result = run('diagnose', url(), '--round-trips', '-1')
    assert result.code == 2, result
    assert 'must be 0 or more' in result.stderr
