"""utils/codegen.py: the committed pika/spec.py is exactly what it generates."""
import importlib.util
import json
import os

ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CODEGEN = os.path.join(ROOT, 'utils', 'codegen.py')
SPEC_JSON = os.path.join(ROOT, 'utils', 'spec', 'amqp-rabbitmq-0.9.1.json')
SPEC_PY = os.path.join(ROOT, 'pika', 'spec.py')


def _load_codegen():
    module_spec = importlib.util.spec_from_file_location(
        '_codec_codegen', CODEGEN)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_committed_spec_equals_fresh_generation(tmp_path):
    codegen = _load_codegen()
    output = tmp_path / 'spec.py'
    assert codegen.main([str(output)]) == 0
    with open(SPEC_PY, encoding='utf-8') as committed:
        assert output.read_text(encoding='utf-8') == committed.read(), (
            'pika/spec.py is stale: run python3 utils/codegen.py')


def test_generation_is_deterministic():
    codegen = _load_codegen()
    assert codegen.generate() == codegen.generate()


def test_every_spec_method_is_generated():
    from pika import spec
    with open(SPEC_JSON, encoding='utf-8') as spec_file:
        definition = json.load(spec_file)
    count = 0
    for amqp_class in definition['classes']:
        for method in amqp_class['methods']:
            index = (amqp_class['id'] << 16) | method['id']
            generated = spec.methods[index]
            assert generated.INDEX == index
            assert generated.synchronous is bool(method.get('synchronous'))
            assert spec.has_content(index) is bool(method.get('content'))
            count += 1
    assert count == len(spec.methods)


def test_spec_license_files_are_kept_with_the_json():
    spec_dir = os.path.dirname(SPEC_JSON)
    assert os.path.exists(os.path.join(spec_dir, 'LICENSE'))
    assert os.path.exists(os.path.join(spec_dir, 'LICENSE-MPL-2.0'))
