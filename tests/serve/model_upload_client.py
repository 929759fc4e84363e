"""Model files in a load request, and unload_dependents, through Triton's official clients.

Run by tests/serve/model_upload_test.ts:
  python model_upload_client.py <http host:port> <grpc host:port> <ensembles|no-ensembles> <model.ts>

The server runs with --model-control-mode explicit and a repository holding add_sub and an
ensemble "pair" whose one step is add_sub; <model.ts> is add_sub's model source, uploaded under
new names. With "no-ensembles" (a core that serves none) the unload_dependents checks are skipped.
"""

import json
import sys
import time
import unittest

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

HTTP_URL = sys.argv.pop(1)
GRPC_URL = sys.argv.pop(1)
ENSEMBLES = sys.argv.pop(1) == "ensembles"
with open(sys.argv.pop(1), "rb") as source:
    MODEL_SOURCE = source.read()


def config(name, backend="deno"):
    tensor = lambda n: {"name": n, "data_type": "TYPE_FP32", "dims": [-1]}
    return json.dumps(
        {
            "name": name,
            "backend": backend,
            "max_batch_size": 0,
            "input": [tensor("INPUT0"), tensor("INPUT1")],
            "output": [tensor("OUTPUT0"), tensor("OUTPUT1")],
            "instance_group": [{"kind": "KIND_CPU", "count": 1}],
        }
    )


def add_sub(module, client, name):
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    b = np.array([0.5, 0.5, 0.5], dtype=np.float32)
    inputs = []
    for input_name, values in (("INPUT0", a), ("INPUT1", b)):
        tensor = module.InferInput(input_name, [3], "FP32")
        tensor.set_data_from_numpy(values)
        inputs.append(tensor)
    result = client.infer(name, inputs)
    return result.as_numpy("OUTPUT0").tolist(), result.as_numpy("OUTPUT1").tolist()


def wait_not_ready(client, name, seconds=20.0):
    """An unload returns once it has started (Triton's core finishes it in the background)."""
    deadline = time.time() + seconds
    while client.is_model_ready(name):
        if time.time() > deadline:
            return False
        time.sleep(0.05)
    return True


class ModelUploadTest(unittest.TestCase):
    def setUp(self):
        self.http = httpclient.InferenceServerClient(url=HTTP_URL)
        self.grpc = grpcclient.InferenceServerClient(url=GRPC_URL)

    def tearDown(self):
        self.http.close()
        self.grpc.close()

    def check_upload(self, module, client, name):
        self.assertFalse(client.is_model_ready(name))
        client.load_model(name, config=config(name), files={"file:1/model.ts": MODEL_SOURCE})
        self.assertTrue(client.is_model_ready(name))
        self.assertEqual(add_sub(module, client, name), ([1.5, 2.5, 3.5], [0.5, 1.5, 2.5]))
        client.unload_model(name)
        self.assertTrue(wait_not_ready(client, name))

    def test_http_upload(self):
        self.check_upload(httpclient, self.http, "uploaded_http")

    def test_grpc_upload(self):
        self.check_upload(grpcclient, self.grpc, "uploaded_grpc")

    def refused(self, client, name, message, **kwargs):
        with self.assertRaises(InferenceServerException) as caught:
            client.load_model(name, **kwargs)
        self.assertIn(message, str(caught.exception))
        self.assertFalse(client.is_model_ready(name))

    def test_refusals(self):
        files = {"file:1/model.ts": MODEL_SOURCE}
        for client in (self.http, self.grpc):
            self.refused(
                client,
                "refused",
                "Load parameter 'config' must be specified for model file override",
                files=files,
            )
            self.refused(
                client,
                "refused",
                "model 'refused' is refused: its configuration names backend 'python'; "
                'a load with model files takes only Deno models (backend: "deno", no platform)',
                config=config("refused", backend="python"),
                files=files,
            )
            self.refused(
                client,
                "refused",
                "must stay within the model directory",
                config=config("refused"),
                files={"file:../escape.ts": MODEL_SOURCE},
            )
            self.refused(
                client,
                "refused",
                "must be relative to the model directory",
                config=config("refused"),
                files={"file:/tmp/absolute.ts": MODEL_SOURCE},
            )

    @unittest.skipUnless(ENSEMBLES, "this core serves no ensembles (no dependents to unload)")
    def test_unload_dependents(self):
        for client in (self.http, self.grpc):
            # Without unload_dependents the member the ensemble brought in stays.
            client.load_model("pair")
            self.assertTrue(client.is_model_ready("add_sub"))
            client.unload_model("pair")
            self.assertTrue(wait_not_ready(client, "pair"))
            self.assertTrue(client.is_model_ready("add_sub"))
            client.unload_model("add_sub")
            self.assertTrue(wait_not_ready(client, "add_sub"))
            # With it, the member goes with the ensemble.
            client.load_model("pair")
            self.assertTrue(client.is_model_ready("add_sub"))
            client.unload_model("pair", unload_dependents=True)
            self.assertTrue(wait_not_ready(client, "pair"))
            self.assertTrue(wait_not_ready(client, "add_sub"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
