"""`benchmarks/profile_step.py`: op names go to the right categories, and a
tiny preset's profile adds up."""

import json
import os
import sys

import pytest

from tests.benchmarks.test_torch_compare import import_torch
from tests.helpers import REPO

sys.path.insert(0, os.path.join(REPO, "benchmarks"))

import profile_step as ps  # noqa: E402

STEP = "StatefulPartitionedCall/"


@pytest.mark.parametrize(
    "op_type, name, category, transposed",
    [
        ("_MklNativeConv2DBackpropInput", STEP + "decoder_1/dec2_deconv_1/conv_transpose", ps.CONV, True),
        ("_MklNativeConv2D", STEP + "gradient_tape/decoder_1/dec1_deconv_1/conv_transpose/Conv2D", ps.CONV, True),
        ("_MklNativeConv2DBackpropInput", STEP + "gradient_tape/encoder_1/enc2_conv_1/convolution/Conv2DBackpropInput", ps.CONV, False),
        ("_MklNativeFusedConv2D", STEP + "encoder_1/enc1_conv_1/BiasAdd", ps.CONV, False),
        ("FusedBatchNormV3", STEP + "encoder_1/enc1_norm_1/FusedBatchNormV3", ps.NORM, False),
        ("_MklNativeFusedBatchNormGradV3", STEP + "gradient_tape/encoder_1/enc1_norm_1/FusedBatchNormGradV3", ps.NORM, False),
        ("AssignVariableOp", STEP + "encoder_1/enc1_res1_norm1_1/AssignVariableOp_1", ps.NORM, False),
        ("SquaredDifference", STEP + "encoder_1/batch_normalization_1/moments/SquaredDifference", ps.NORM, False),
        # Keras 3's Adam: element-wise ops and variable updates in the optimizer's name scope.
        ("AssignSubVariableOp", STEP + "adam/AssignSubVariableOp_10", ps.ADAM, False),
        ("AssignAddVariableOp", STEP + "adam/AssignAddVariableOp_31", ps.ADAM, False),
        ("Sqrt", STEP + "adam/Sqrt_17", ps.ADAM, False),
        ("ResourceApplyAdam", "Adam/update/ResourceApplyAdam", ps.ADAM, False),
        ("BiasAddGrad", STEP + "gradient_tape/decoder_1/dec2_deconv_1/BiasAdd/BiasAddGrad", ps.BIAS, False),
        ("LeakyReluGrad", STEP + "gradient_tape/decoder_1/dec1_act_1/LeakyRelu/LeakyReluGrad", ps.ACTIVATION, False),
        ("_MklSwish", STEP + "encoder_1/enc1_res1_act1_1/Swish", ps.ACTIVATION, False),
        ("_MklNativeFusedMatMul", STEP + "encoder_1/z_mean_1/BiasAdd", ps.DENSE, False),
        ("StatelessRandomNormalV2", STEP + "stateless_random_normal/StatelessRandomNormalV2", ps.LOSS, False),
        ("Square", STEP + "Square", ps.LOSS, False),
        ("Dataset", "Iterator::Root::Prefetch", ps.OTHER, False),
        ("Tile", STEP + "decoder_1/dec_up_out_1/Repeat/Tile", ps.OTHER, False),
    ],
)  # fmt: skip
def test_tensorflow_ops_map_to_their_category(op_type, name, category, transposed):
    assert ps.categorize(ps.TF_RULES, op_type, name) == (category, transposed)


BACKWARD = "autograd::engine::evaluate_function: "


@pytest.mark.parametrize(
    "name, scope, category, transposed",
    [
        ("aten::mkldnn_convolution", "encoder/aten::conv2d/aten::convolution/aten::_convolution/aten::mkldnn_convolution", ps.CONV, False),
        ("aten::_convolution", "decoder/aten::conv_transpose2d/aten::convolution/aten::_convolution", ps.CONV, True),
        ("aten::convolution_backward", BACKWARD + "ConvolutionBackward0/ConvolutionBackward0/aten::convolution_backward"
         " <- aten::conv_transpose2d/aten::convolution/decoder", ps.CONV, True),
        ("aten::native_batch_norm", "encoder/aten::batch_norm/aten::_batch_norm_impl_index/aten::native_batch_norm", ps.NORM, False),
        ("aten::native_batch_norm_backward", BACKWARD + "NativeBatchNormBackward0/NativeBatchNormBackward0/"
         "aten::native_batch_norm_backward <- aten::batch_norm/encoder", ps.NORM, False),
        ("aten::lerp_", "Optimizer.step#Adam.step/aten::lerp_", ps.ADAM, False),
        ("aten::_foreach_addcdiv_", "Optimizer.step#Adam.step/aten::_foreach_addcdiv_", ps.ADAM, False),
        ("aten::leaky_relu", "encoder/aten::leaky_relu", ps.ACTIVATION, False),
        ("aten::silu_backward", BACKWARD + "SiluBackward0/SiluBackward0/aten::silu_backward <- aten::silu/decoder", ps.ACTIVATION, False),
        ("aten::addmm", "encoder/aten::linear/aten::addmm", ps.DENSE, False),
        ("aten::mm", BACKWARD + "AddmmBackward0/AddmmBackward0/aten::mm <- aten::addmm/aten::linear/decoder", ps.DENSE, False),
        ("aten::exp", "aten::exp", ps.LOSS, False),
        ("aten::copy_", "encoder/aten::pad/aten::constant_pad_nd/aten::copy_", ps.OTHER, False),
    ],
)  # fmt: skip
def test_pytorch_ops_map_to_their_category(name, scope, category, transposed):
    assert ps.categorize(ps.TORCH_RULES, name, scope) == (category, transposed)


def test_a_tiny_preset_profile_adds_up(tmp_path, capsys):
    """vae_tiny at batch 4, 2 profiled steps: both frameworks (PyTorch's if
    importable) spend time in convs, and the shares sum to 100 %."""
    torch_flag = ["--torch"] if _has_torch() else []
    argv = ["--presets", "vae_tiny", "--batch", "4", "--threads", "2", "--steps", "2", "--warmup", "1", "--out", str(tmp_path)]
    assert ps.main(argv + torch_flag) == 0
    with open(tmp_path / "profile_step.json") as f:
        summaries = json.load(f)["presets"]["vae_tiny"]
    assert set(summaries) == {"tfface", "torch"} if torch_flag else {"tfface"}
    for summary in summaries.values():
        assert summary["ms"][ps.CONV] > 0 and summary["ms"][ps.ADAM] > 0
        assert 0 < summary["ms"][ps.TRANSPOSED] < summary["ms"][ps.CONV]
        shares = [share for category, share in summary["share"].items() if category != ps.TRANSPOSED]
        assert sum(shares) == pytest.approx(1.0)
        assert summary["total_ms"] > 0 and summary["wall_ms"] > 0
    table = capsys.readouterr().out
    assert ps.CONV in table and "wall time per step" in table


def _has_torch() -> bool:
    try:
        import_torch()
    except pytest.skip.Exception:
        return False
    return True
