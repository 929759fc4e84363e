# The benchmark's python_backend stream_text (decoupled): one response per
# word of TEXT, then FINAL alone, as models/stream_text does.
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        for request in requests:
            sender = request.get_response_sender()
            text = pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy()[0]
            for word in text.decode("utf-8").split():
                if sender.is_cancelled():
                    break
                token = np.array([word.encode("utf-8")], dtype=np.object_)
                sender.send(pb_utils.InferenceResponse([pb_utils.Tensor("TOKEN", token)]))
            sender.send(flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
        return None
