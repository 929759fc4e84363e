# The benchmark's python_backend streaming BLS: reads the stream of the model
# named in its config parameter "target" (a stream_text) with
# InferenceRequest.exec(decoupled=True) to its end and answers with the words,
# as models/bls_stream does. (Leaving the iterator early leaves the stub unable
# to unload, so the benchmark streams one word.)
import json

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        self.target = config["parameters"]["target"]["string_value"]

    def execute(self, requests):
        responses = []
        for request in requests:
            call = pb_utils.InferenceRequest(
                model_name=self.target,
                requested_output_names=["TOKEN"],
                inputs=[pb_utils.get_input_tensor_by_name(request, "TEXT")],
            )
            words = []
            error = None
            for answer in call.exec(decoupled=True):
                if answer.has_error():
                    error = answer.error().message()
                    break
                token = pb_utils.get_output_tensor_by_name(answer, "TOKEN")
                if token is not None:
                    words.extend(token.as_numpy().tolist())
            if error is not None:
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(error)))
                continue
            words_tensor = pb_utils.Tensor("WORDS", np.array(words, dtype=np.object_))
            responses.append(pb_utils.InferenceResponse([words_tensor]))
        return responses
