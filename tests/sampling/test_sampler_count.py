"""One "first N images of a split" and one sampler fitting count: the
export's sampler is the one `tfface sample` fits, on the same images."""

import numpy as np

from tests.helpers import tiny_config
from tfface.config import SAMPLER_FIT_COUNT, SampleOptions
from tfface.data import first_image_array, first_images, make_dataset
from tfface.run import load_run
from tfface.sampling import sampler_for_run
from tfface.training import train_run
from tfface.training.runner import export_sampler


def test_first_images_are_the_unshuffled_split_in_order_across_batches(tmp_path):
    config = tiny_config(tmp_path, "data.num_examples=40", "data.flip=true").data
    everything = np.concatenate(list(make_dataset(config, "train", batch_size=5, training=False).as_numpy_iterator()))
    array = first_image_array(config, "train", 13, batch_size=4)
    np.testing.assert_array_equal(array, everything[:13])
    assert [len(batch) for batch in first_images(config, "train", 13, batch_size=4)] == [4, 4, 4, 1]
    assert len(first_image_array(config, "train", 10_000)) == len(everything)  # a smaller split: all of it


def test_the_exports_sampler_is_fitted_on_the_images_tfface_sample_fits_on(tmp_path):
    assert SampleOptions().fit_count == SAMPLER_FIT_COUNT == 10_000
    # 300 training images: more than run.sampler_fit_images (256, the grids' preview).
    config = tiny_config(tmp_path, "model.preset='ae_demo'", "model.args.widths=[8, 16]", "data.num_examples=400",
                         "train.steps_per_epoch=2", "run.sample_grid=false", "run.tensorboard=false")  # fmt: skip
    result = train_run(config)
    exported = export_sampler(config, result.model)
    sampled = sampler_for_run(load_run(str(tmp_path)), save=False)
    assert exported.kind == sampled.kind == "gaussian"
    for key, value in sampled.get_config()["state"].items():
        np.testing.assert_allclose(exported.get_config()["state"][key], value, rtol=1e-5, atol=1e-6)
