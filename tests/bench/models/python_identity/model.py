# The benchmark's python_backend model: each output is its input, the usual
# way a python_backend model returns a tensor (as_numpy, then a new Tensor).
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            a = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            b = pb_utils.get_input_tensor_by_name(request, "INPUT1").as_numpy()
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor("OUTPUT0", a),
                        pb_utils.Tensor("OUTPUT1", b),
                    ]
                )
            )
        return responses
