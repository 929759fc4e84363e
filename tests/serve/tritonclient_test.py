"""Triton's official Python HTTP client against `deno task serve`.

Run by tests/serve/tritonclient_test.ts: python tritonclient_test.py <host:port>
The server must serve models add_sub (FP32, dims [-1]) and add_sub_string (BYTES).
"""

import sys
import unittest

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException, np_to_triton_dtype

URL = sys.argv.pop(1) if len(sys.argv) > 1 else "localhost:8000"


def add_sub_inputs(a, b, binary):
    inputs = []
    for name, values in (("INPUT0", a), ("INPUT1", b)):
        tensor = httpclient.InferInput(name, list(values.shape), np_to_triton_dtype(values.dtype))
        tensor.set_data_from_numpy(values, binary_data=binary)
        inputs.append(tensor)
    return inputs


class TritonClientTest(unittest.TestCase):
    def setUp(self):
        self.client = httpclient.InferenceServerClient(url=URL)

    def tearDown(self):
        self.client.close()

    def test_health_and_metadata(self):
        self.assertTrue(self.client.is_server_live())
        self.assertTrue(self.client.is_server_ready())
        self.assertTrue(self.client.is_model_ready("add_sub"))
        self.assertFalse(self.client.is_model_ready("no_such_model"))
        server = self.client.get_server_metadata()
        self.assertEqual(server["name"], "triton")
        self.assertIn("binary_tensor_data", server["extensions"])
        metadata = self.client.get_model_metadata("add_sub")
        self.assertEqual(metadata["name"], "add_sub")
        self.assertEqual(metadata["versions"], ["1"])
        self.assertEqual(
            [(i["name"], i["datatype"], i["shape"]) for i in metadata["inputs"]],
            [("INPUT0", "FP32", [-1]), ("INPUT1", "FP32", [-1])],
        )
        config = self.client.get_model_config("add_sub")
        self.assertEqual(config["name"], "add_sub")
        self.assertEqual(config["backend"], "deno")
        self.assertEqual(config["input"][0]["data_type"], "TYPE_FP32")

    def check_add_sub(self, binary_inputs, binary_outputs):
        a = np.arange(16, dtype=np.float32)
        b = np.full(16, 0.25, dtype=np.float32)
        outputs = [
            httpclient.InferRequestedOutput("OUTPUT0", binary_data=binary_outputs),
            httpclient.InferRequestedOutput("OUTPUT1", binary_data=binary_outputs),
        ]
        result = self.client.infer(
            "add_sub", add_sub_inputs(a, b, binary_inputs), outputs=outputs, request_id="py-1"
        )
        np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), a + b)
        np.testing.assert_array_equal(result.as_numpy("OUTPUT1"), a - b)
        response = result.get_response()
        self.assertEqual(response["id"], "py-1")
        self.assertEqual(response["model_name"], "add_sub")
        binary = ["binary_data_size" in o.get("parameters", {}) for o in response["outputs"]]
        self.assertEqual(binary, [binary_outputs, binary_outputs])

    def test_infer_json(self):
        self.check_add_sub(binary_inputs=False, binary_outputs=False)

    def test_infer_binary(self):
        self.check_add_sub(binary_inputs=True, binary_outputs=True)

    def test_infer_mixed_and_compressed(self):
        a = np.array([1.5, -2.0, 3.0], dtype=np.float32)
        b = np.array([0.5, 0.5, 0.5], dtype=np.float32)
        result = self.client.infer(
            "add_sub",
            add_sub_inputs(a, b, binary=True),
            outputs=[httpclient.InferRequestedOutput("OUTPUT1", binary_data=False)],
            request_compression_algorithm="gzip",
        )
        np.testing.assert_array_equal(result.as_numpy("OUTPUT1"), a - b)
        self.assertIsNone(result.as_numpy("OUTPUT0"))

    def test_infer_bytes(self):
        for binary in (True, False):
            a = np.array(["12", "-5", "100000000000000000000"], dtype=np.object_)
            b = np.array(["30", "5", "1"], dtype=np.object_)
            result = self.client.infer("add_sub_string", add_sub_inputs(a, b, binary))
            sums = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("OUTPUT0")]
            self.assertEqual(sums, ["42", "0", "100000000000000000001"])

    def test_error_responses(self):
        a = np.zeros(4, dtype=np.float32)
        bad = httpclient.InferInput("NOT_AN_INPUT", [4], "FP32")
        bad.set_data_from_numpy(a)
        with self.assertRaises(InferenceServerException) as caught:
            self.client.infer("add_sub", [add_sub_inputs(a, a, True)[0], bad])
        self.assertIn("unexpected inference input 'NOT_AN_INPUT'", caught.exception.message())
        self.assertEqual(caught.exception.status(), "400")
        with self.assertRaises(InferenceServerException) as caught:
            self.client.infer("no_such_model", add_sub_inputs(a, a, True))
        self.assertIn("Request for unknown model", caught.exception.message())
        self.assertEqual(caught.exception.status(), "404")

    def test_model_control_and_statistics(self):
        index = {entry["name"]: entry for entry in self.client.get_model_repository_index()}
        self.assertEqual(index["add_sub"]["state"], "READY")
        self.client.unload_model("add_sub_string")
        self.assertFalse(self.client.is_model_ready("add_sub_string"))
        self.client.load_model("add_sub_string")
        self.assertTrue(self.client.is_model_ready("add_sub_string"))
        a = np.ones(2, dtype=np.float32)
        self.client.infer("add_sub", add_sub_inputs(a, a, True))
        stats = self.client.get_inference_statistics("add_sub")
        entry = stats["model_stats"][0]
        self.assertEqual(entry["name"], "add_sub")
        self.assertGreaterEqual(entry["inference_count"], 1)
        self.assertGreaterEqual(entry["inference_stats"]["success"]["count"], 1)

    def test_system_shared_memory(self):
        # As Triton's simple_http_shm_client example: inputs and outputs in
        # the client's POSIX shared memory, registered with the server.
        import os

        import tritonclient.utils.shared_memory as shm

        tag = f"tdn_client_{os.getpid()}"
        a = np.arange(16, dtype=np.float32)
        b = np.full(16, 2, dtype=np.float32)
        size = a.nbytes
        ip = shm.create_shared_memory_region(f"{tag}_in", f"/{tag}_in", size * 2)
        op = shm.create_shared_memory_region(f"{tag}_out", f"/{tag}_out", size * 2)
        try:
            shm.set_shared_memory_region(ip, [a, b])
            self.client.unregister_system_shared_memory()
            self.client.register_system_shared_memory(f"{tag}_in", f"/{tag}_in", size * 2)
            self.client.register_system_shared_memory(f"{tag}_out", f"/{tag}_out", size * 2)
            status = self.client.get_system_shared_memory_status()
            self.assertEqual(
                sorted((r["name"], r["key"], r["byte_size"]) for r in status),
                [(f"{tag}_in", f"/{tag}_in", size * 2), (f"{tag}_out", f"/{tag}_out", size * 2)],
            )
            inputs = [
                httpclient.InferInput("INPUT0", [16], "FP32"),
                httpclient.InferInput("INPUT1", [16], "FP32"),
            ]
            inputs[0].set_shared_memory(f"{tag}_in", size)
            inputs[1].set_shared_memory(f"{tag}_in", size, offset=size)
            outputs = [
                httpclient.InferRequestedOutput("OUTPUT0", binary_data=True),
                httpclient.InferRequestedOutput("OUTPUT1", binary_data=True),
            ]
            outputs[0].set_shared_memory(f"{tag}_out", size)
            outputs[1].set_shared_memory(f"{tag}_out", size, offset=size)
            result = self.client.infer("add_sub", inputs, outputs=outputs)
            shape = result.get_output("OUTPUT0")["shape"]
            np.testing.assert_array_equal(shm.get_contents_as_numpy(op, np.float32, shape), a + b)
            np.testing.assert_array_equal(
                shm.get_contents_as_numpy(op, np.float32, shape, offset=size), a - b
            )
            # Offsets and sizes are checked against the registered region.
            inputs[1].set_shared_memory(f"{tag}_in", size, offset=size + 4)
            with self.assertRaises(InferenceServerException) as caught:
                self.client.infer("add_sub", inputs, outputs=outputs)
            self.assertIn("Invalid offset + byte size", str(caught.exception))
            with self.assertRaises(InferenceServerException) as caught:
                self.client.register_system_shared_memory("too_big", f"/{tag}_in", size * 4)
            self.assertIn("go beyond", str(caught.exception))
            with self.assertRaises(InferenceServerException):
                self.client.register_system_shared_memory("evil", "/../etc/passwd", 4)
            self.client.unregister_system_shared_memory(f"{tag}_in")
            self.assertEqual(len(self.client.get_system_shared_memory_status()), 1)
            # No GPU: no CUDA shared-memory region exists.
            self.assertEqual(self.client.get_cuda_shared_memory_status(), [])
        finally:
            self.client.unregister_system_shared_memory()
            shm.destroy_shared_memory_region(ip)
            shm.destroy_shared_memory_region(op)

    def test_json_non_finite_duplicates_and_settings(self):
        a = np.array([np.nan, np.inf, -np.inf, 1], dtype=np.float32)
        b = np.zeros(4, dtype=np.float32)
        outputs = [httpclient.InferRequestedOutput("OUTPUT0", binary_data=False)]
        result = self.client.infer("add_sub", add_sub_inputs(a, b, False), outputs=outputs)
        out = result.as_numpy("OUTPUT0")
        self.assertTrue(np.isnan(out[0]))
        self.assertEqual(list(out[1:]), [np.inf, -np.inf, 1])
        twice = [httpclient.InferRequestedOutput("OUTPUT0"), httpclient.InferRequestedOutput("OUTPUT0")]
        with self.assertRaises(InferenceServerException) as caught:
            self.client.infer("add_sub", add_sub_inputs(b, b, True), outputs=twice)
        self.assertIn("output 'OUTPUT0' already exists in request", str(caught.exception))
        settings = self.client.update_log_settings({"log_verbose_level": 1})
        self.assertEqual(settings["log_verbose_level"], 1)
        self.assertEqual(self.client.get_log_settings()["log_verbose_level"], 1)
        trace = self.client.update_trace_settings(model_name="add_sub", settings={"trace_rate": "5"})
        self.assertEqual(trace["trace_rate"], "5")
        self.assertEqual(self.client.get_trace_settings()["trace_rate"], "1000")


if __name__ == "__main__":
    unittest.main(verbosity=2)
