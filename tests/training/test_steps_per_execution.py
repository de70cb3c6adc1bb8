"""`train.steps_per_execution`: several training steps per call into the
compiled graph train exactly what one step per call trains, with the
adversarial start decided in the graph and the NaN guard still stopping."""

import json

import keras
import numpy as np
import pytest

from tests.helpers import REPO, random_images, run_python
from tfface.callbacks import NonFiniteGuard, NonFiniteLossError
from tfface.presets import build_preset
from tfface.training.runner import fitted_steps_per_execution

# Op determinism is process-wide: a fresh process. 36 training images in
# batches of 9: 4 steps per epoch, one call of 4 steps; the adversarial
# term starts at step 2, inside the first call.
SAME_WEIGHTS = """
import json, sys
import numpy as np
from tests.helpers import tiny_config
from tfface.experiments import train

out, report = sys.argv[1], {}
for steps in (1, 4):
    cfg = tiny_config(f"{out}/spe{steps}", f"train.steps_per_execution={steps}", "train.batch_size=9", "train.epochs=3",
                      "train.deterministic=true", "model.adversarial_weight=0.5", "model.adversarial_start=2",
                      "model.args={discriminator_layers=2, discriminator_width=8}", "run.export=false",
                      "run.sample_grid=false", "run.reconstruction_grid=false")
    result = train(cfg)
    model = result.model
    np.savez(f"{out}/spe{steps}.npz", *model.get_weights(), *model.discriminator_optimizer.variables)
    report[steps] = {"history": result.history, "d_steps": int(model.discriminator_optimizer.iterations.numpy()),
                     "g_steps": int(model.optimizer.iterations.numpy())}
print("REPORT", json.dumps(report))
"""


@pytest.mark.slow
def test_four_steps_per_execution_train_the_same_weights_as_one(tmp_path):
    done = run_python(SAME_WEIGHTS, str(tmp_path), env={"PYTHONPATH": REPO}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.split("REPORT ", 1)[1])
    for steps in ("1", "4"):
        assert (report[steps]["g_steps"], report[steps]["d_steps"]) == (12, 10)  # D from step 2 on
    one, four = np.load(tmp_path / "spe1.npz"), np.load(tmp_path / "spe4.npz")
    assert len(one.files) == len(four.files)
    for key in one.files:
        np.testing.assert_array_equal(four[key], one[key], err_msg=key)
    # Logged epoch means: equal to float32 rounding (seen: 190.86140 vs 190.86139).
    np.testing.assert_allclose(report["4"]["history"]["loss"], report["1"]["history"]["loss"], rtol=1e-6)
    assert report["1"]["history"]["loss"][1] < report["1"]["history"]["loss"][0]


@pytest.mark.parametrize("start, expected", [(0, 4), (3, 1), (4, 0)])
def test_adversarial_start_falls_on_its_step_inside_one_call(start, expected):
    # One call of 4 steps: the discriminator steps from `start` on, decided in the graph.
    model = build_preset("vae_tiny", image_size=(32, 32), adversarial_weight=0.5, adversarial_start=start,
                         discriminator_layers=2, discriminator_width=8, seed=0)
    model.compile(optimizer="adam", steps_per_execution=4)
    critic = [np.array(w) for w in model.discriminator.weights]
    model.fit(random_images(16), batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert int(model.optimizer.iterations) == 4
    assert int(model.discriminator_optimizer.iterations) == expected
    unchanged = all(np.array_equal(a, np.array(b)) for a, b in zip(critic, model.discriminator.weights))
    assert unchanged == (expected == 0)  # moving statistics too: put back before the start


def test_guard_stops_on_a_non_finite_batch_inside_a_call():
    x = random_images(16)
    x[9, 3, 3, 0] = np.inf  # the third batch of four, in the second call of two steps
    model = build_preset("vae_tiny", image_size=(32, 32))
    model.compile(optimizer="adam", steps_per_execution=2)
    with pytest.raises(NonFiniteLossError) as caught:
        model.fit(x, batch_size=4, epochs=2, shuffle=False, callbacks=[NonFiniteGuard()], verbose=0)
    assert (caught.value.epoch, caught.value.batch) == (1, 4)
    assert "epoch 1, batches 3-4 (one call of steps_per_execution steps)" in str(caught.value)


def test_steps_per_execution_that_does_not_divide_an_epoch_is_fitted_with_a_warning():
    # Keras runs whole calls: 4 per call over 6-step epochs would run 8 steps in epoch 1.
    with pytest.warns(UserWarning, match=r"train.steps_per_execution: 4 does not divide the 6 steps .* running 3"):
        assert fitted_steps_per_execution(4, 6) == 3
    assert fitted_steps_per_execution(4, 8) == 4 and fitted_steps_per_execution(5, None) == 5


def test_gated_step_before_the_start_leaves_the_discriminator_as_it_was():
    # A step traced with the gated term (as a call that reaches the start
    # runs its earlier steps) must change what a step without it changes:
    # no discriminator update, its BatchNorm moving statistics put back.
    model = build_preset("vae_tiny", image_size=(32, 32), adversarial_weight=0.5, adversarial_start=10,
                         discriminator_layers=2, discriminator_width=8, seed=0)
    model.compile(optimizer="adam")
    model.adversarial_on = True
    critic = [np.array(w) for w in model.discriminator.weights]
    logs = model.fit(random_images(8), batch_size=4, epochs=1, shuffle=False, verbose=0).history
    assert int(model.discriminator_optimizer.iterations) == 0 and logs["adversarial_weight_effective"] == [0.0]
    for before, after in zip(critic, model.discriminator.weights, strict=True):
        np.testing.assert_array_equal(np.array(after), before, err_msg=after.path)


def _critic_every_other_step(steps_per_execution):
    keras.utils.set_random_seed(0)  # the same initial weights
    model = build_preset("vae_tiny", image_size=(32, 32), adversarial_weight=0.5, adversarial_start=1,
                         discriminator_every=2, r1_weight=1.0, r1_every=2, lecam_weight=0.1,
                         feature_matching_weight=1.0,
                         discriminator_augment="color,translation", discriminator_layers=2, discriminator_width=8,
                         seed=0)  # fmt: skip
    model.compile(optimizer="adam", steps_per_execution=steps_per_execution)
    model.fit(random_images(24, seed=3), batch_size=4, epochs=1, shuffle=False, verbose=0)
    return model


def test_discriminator_every_other_step_trains_the_same_with_two_steps_per_call():
    # The update, lazy R1, the LeCam anchors and feature matching (from the
    # start at step 1, inside the first call of two) fall on their own steps
    # inside a call of several steps (decided in the graph, not per call).
    one, two = _critic_every_other_step(1), _critic_every_other_step(2)
    for model in (one, two):  # steps 1, 3, 5 of 0-5 (from the start at 1, every 2nd)
        assert (int(model.optimizer.iterations), int(model.discriminator_optimizer.iterations)) == (6, 3)
    for a, b in zip(one.weights, two.weights, strict=True):
        np.testing.assert_array_equal(np.array(b), np.array(a), err_msg=a.path)
    for a, b in zip(one.discriminator_optimizer.variables, two.discriminator_optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.array(b), np.array(a), err_msg=a.path)
