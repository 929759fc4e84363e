"""Triton's official Python gRPC client against `deno task serve`.

Run by tests/serve/tritonclient_grpc_test.ts: python tritonclient_grpc_test.py <host:port>
The server must serve models add_sub (FP32, dims [-1]), add_sub_string (BYTES)
and stream_text (decoupled: one response per word).
"""

import queue
import sys
import threading
import unittest

import grpc
import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException, np_to_triton_dtype

URL = sys.argv.pop(1) if len(sys.argv) > 1 else "localhost:8001"


def tensors(names_and_values):
    inputs = []
    for name, values in names_and_values:
        tensor = grpcclient.InferInput(name, list(values.shape), np_to_triton_dtype(values.dtype))
        tensor.set_data_from_numpy(values)
        inputs.append(tensor)
    return inputs


def add_sub_inputs(a, b):
    return tensors((("INPUT0", a), ("INPUT1", b)))


def text_input(text):
    return tensors((("TEXT", np.array([text.encode()], dtype=np.object_)),))


class TritonGrpcClientTest(unittest.TestCase):
    def setUp(self):
        self.client = grpcclient.InferenceServerClient(url=URL)

    def tearDown(self):
        self.client.close()

    def assert_status(self, call, status, text):
        with self.assertRaises(InferenceServerException) as caught:
            call()
        self.assertEqual(caught.exception.status(), status, caught.exception.message())
        self.assertIn(text, caught.exception.message())

    def test_health_and_metadata(self):
        self.assertTrue(self.client.is_server_live())
        self.assertTrue(self.client.is_server_ready())
        self.assertTrue(self.client.is_model_ready("add_sub"))
        self.assertTrue(self.client.is_model_ready("add_sub", "1"))
        self.assertFalse(self.client.is_model_ready("no_such_model"))
        self.assertFalse(self.client.is_model_ready("add_sub", "7"))
        server = self.client.get_server_metadata(as_json=True)
        self.assertEqual(server["name"], "triton")
        self.assertIn("model_repository", server["extensions"])
        metadata = self.client.get_model_metadata("add_sub")
        self.assertEqual(metadata.name, "add_sub")
        self.assertEqual(list(metadata.versions), ["1"])
        self.assertEqual(
            [(i.name, i.datatype, list(i.shape)) for i in metadata.inputs],
            [("INPUT0", "FP32", [-1]), ("INPUT1", "FP32", [-1])],
        )
        config = self.client.get_model_config("add_sub", as_json=True)["config"]
        self.assertEqual(config["name"], "add_sub")
        self.assertEqual(config["backend"], "deno")
        self.assertEqual(config["input"][0]["data_type"], "TYPE_FP32")
        decoupled = self.client.get_model_config("stream_text").config
        self.assertTrue(decoupled.model_transaction_policy.decoupled)

    def test_grpc_health_checking_service(self):
        # grpc.health.v1.Health/Check with an empty request; SERVING is status 1 (field 1, varint).
        with grpc.insecure_channel(URL) as channel:
            check = channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=lambda raw: raw,
                response_deserializer=lambda raw: raw,
            )
            self.assertEqual(check(b""), b"\x08\x01")

    def test_infer_compressed(self):
        a = np.array([1.5, -2.0, 3.0], dtype=np.float32)
        b = np.array([0.5, 0.5, 0.5], dtype=np.float32)
        for algorithm in ("gzip", "deflate"):
            result = self.client.infer(
                "add_sub", add_sub_inputs(a, b), compression_algorithm=algorithm
            )
            np.testing.assert_array_equal(result.as_numpy("OUTPUT1"), a - b)

    def test_infer(self):
        a = np.arange(16, dtype=np.float32)
        b = np.full(16, 0.25, dtype=np.float32)
        outputs = [grpcclient.InferRequestedOutput("OUTPUT0"), grpcclient.InferRequestedOutput("OUTPUT1")]
        result = self.client.infer("add_sub", add_sub_inputs(a, b), outputs=outputs, request_id="g-1")
        np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), a + b)
        np.testing.assert_array_equal(result.as_numpy("OUTPUT1"), a - b)
        response = result.get_response()
        self.assertEqual(response.id, "g-1")
        self.assertEqual(response.model_name, "add_sub")
        self.assertEqual(response.model_version, "1")
        only = self.client.infer(
            "add_sub", add_sub_inputs(a, b), outputs=[grpcclient.InferRequestedOutput("OUTPUT1")]
        )
        np.testing.assert_array_equal(only.as_numpy("OUTPUT1"), a - b)
        self.assertIsNone(only.as_numpy("OUTPUT0"))

    def test_async_infer(self):
        done = queue.Queue()
        a = np.array([1.5, -2.0, 3.0], dtype=np.float32)
        for i in range(4):
            self.client.async_infer(
                "add_sub",
                add_sub_inputs(a, np.full(3, float(i), dtype=np.float32)),
                callback=lambda result, error, i=i: done.put((i, result, error)),
                request_id=str(i),
            )
        seen = set()
        for _ in range(4):
            i, result, error = done.get(timeout=60)
            self.assertIsNone(error)
            np.testing.assert_array_equal(result.as_numpy("OUTPUT0"), a + i)
            self.assertEqual(result.get_response().id, str(i))
            seen.add(i)
        self.assertEqual(seen, {0, 1, 2, 3})

    def test_infer_bytes(self):
        a = np.array(["12", "-5", "100000000000000000000"], dtype=np.object_)
        b = np.array(["30", "5", "1"], dtype=np.object_)
        result = self.client.infer("add_sub_string", add_sub_inputs(a, b))
        sums = [v.decode() for v in result.as_numpy("OUTPUT0")]
        self.assertEqual(sums, ["42", "0", "100000000000000000001"])

    def stream(self, requests):
        """Sends (model, inputs, id, empty_final) on one stream; returns what came back per id."""
        results = queue.Queue()
        self.client.start_stream(callback=lambda result, error: results.put((result, error)))
        try:
            for model, inputs, request_id, empty_final in requests:
                self.client.async_stream_infer(
                    model, inputs, request_id=request_id, enable_empty_final_response=empty_final
                )
            by_id = {}
            open_ids = {request[2] for request in requests}
            while open_ids:
                result, error = results.get(timeout=60)
                if error is not None:
                    by_id.setdefault("errors", []).append(error.message())
                    open_ids.discard("bad")
                    continue
                response = result.get_response()
                final = response.parameters["triton_final_response"].bool_param
                tokens = result.as_numpy("TOKEN")
                entry = by_id.setdefault(response.id, [])
                if tokens is not None:
                    entry.append(tokens[0].decode())
                if final:
                    entry.append("<final>")
                    open_ids.discard(response.id)
            return by_id
        finally:
            self.client.stop_stream()

    def test_stream_infer_decoupled(self):
        got = self.stream([
            ("stream_text", text_input("the quick brown fox"), "s-1", True),
            ("stream_text", text_input("jumps over"), "s-2", True),
        ])
        self.assertEqual(got["s-1"], ["the", "quick", "brown", "fox", "<final>"])
        self.assertEqual(got["s-2"], ["jumps", "over", "<final>"])

    def test_stream_errors_are_in_stream(self):
        a = np.ones(2, dtype=np.float32)
        got = self.stream([
            ("no_such_model", add_sub_inputs(a, a), "bad", False),
            ("stream_text", text_input("still open"), "s-3", True),
        ])
        self.assertEqual(len(got["errors"]), 1)
        self.assertIn("Request for unknown model: 'no_such_model' is not found", got["errors"][0])
        self.assertEqual(got["s-3"], ["still", "open", "<final>"])

    def test_error_statuses(self):
        a = np.zeros(4, dtype=np.float32)
        self.assert_status(
            lambda: self.client.infer("no_such_model", add_sub_inputs(a, a)),
            "StatusCode.NOT_FOUND",
            "Request for unknown model: 'no_such_model' is not found",
        )
        wrong = add_sub_inputs(np.zeros(4, dtype=np.int32), a)
        self.assert_status(
            lambda: self.client.infer("add_sub", wrong),
            "StatusCode.INVALID_ARGUMENT",
            "inference input 'INPUT0' data-type is 'INT32', but model 'add_sub' expects 'FP32'",
        )
        self.assert_status(
            lambda: self.client.infer("stream_text", text_input("a b")),
            "StatusCode.UNIMPLEMENTED",
            "ModelInfer RPC doesn't support models with decoupled transaction policy",
        )
        self.assert_status(
            lambda: self.client.get_model_metadata("no_such_model"),
            "StatusCode.NOT_FOUND",
            "Request for unknown model",
        )

    def test_model_control_and_statistics(self):
        index = {entry.name: entry for entry in self.client.get_model_repository_index().models}
        self.assertEqual(index["add_sub"].state, "READY")
        self.client.unload_model("add_sub_string")
        self.assertFalse(self.client.is_model_ready("add_sub_string"))
        ready = {entry.name for entry in self.client.get_model_repository_index(as_json=False).models
                 if entry.state == "READY"}
        self.assertNotIn("add_sub_string", ready)
        self.client.load_model("add_sub_string")
        self.assertTrue(self.client.is_model_ready("add_sub_string"))
        a = np.ones(2, dtype=np.float32)
        before = self.client.get_inference_statistics("add_sub").model_stats[0].inference_count
        self.client.infer("add_sub", add_sub_inputs(a, a))
        stats = self.client.get_inference_statistics("add_sub", as_json=True)
        entry = stats["model_stats"][0]
        self.assertEqual(entry["name"], "add_sub")
        self.assertEqual(int(entry["inference_count"]), before + 1)
        self.assertGreaterEqual(int(entry["inference_stats"]["success"]["count"]), 1)
        every = self.client.get_inference_statistics()
        self.assertGreaterEqual({s.name for s in every.model_stats}, {"add_sub", "stream_text"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
