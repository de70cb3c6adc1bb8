import numpy as np
import pytest

from tfface.presets import build_preset
from tfface.sampling import (
    AttributeDirections,
    attribute_vector,
    generate_from_attributes,
    interpolate,
    interpolation_strip,
    traversal_grid,
    traverse,
)
from tfface.sampling.attributes import latent_attribute_names, parse_attribute_spec


def png_shape(path):
    import tensorflow as tf

    return tuple(tf.io.decode_png(tf.io.read_file(str(path))).shape)


def test_linear_and_spherical_interpolation():
    a, b = np.array([2.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
    lin = interpolate(a, b, 5, "linear")
    sph = interpolate(a, b, 5, "slerp")
    np.testing.assert_allclose(lin[[0, -1]], [a, b])
    np.testing.assert_allclose(sph[[0, -1]], [a, b], atol=1e-6)
    np.testing.assert_allclose(lin[2], [1.0, 1.0, 0.0])
    np.testing.assert_allclose(np.linalg.norm(sph, axis=1), 2.0, rtol=1e-6)  # stays on the sphere
    np.testing.assert_allclose(sph[2], [np.sqrt(2), np.sqrt(2), 0.0], rtol=1e-6)
    # parallel ends fall back to a straight line; batched ends interpolate pairwise
    np.testing.assert_allclose(interpolate(a, 3 * a, 3, "slerp")[1], 2 * a, rtol=1e-6)
    assert interpolate(np.stack([a, b]), np.stack([b, a]), 4).shape == (2, 4, 3)
    with pytest.raises(KeyError, match="Did you mean 'slerp'"):
        interpolate(a, b, 3, "slrep")
    with pytest.raises(ValueError, match="steps must be >= 2"):
        interpolate(a, b, 1)


def test_strips_and_traversals_decode_the_right_codes(tmp_path):
    model = build_preset("vae_tiny", latent_dim=4)
    images = np.random.default_rng(0).random((4, 32, 32, 3), dtype=np.float32)
    strip = interpolation_strip(model, images[:2], images[2:], steps=5, path=tmp_path / "strip.png")
    assert strip.shape == (2 * 7, 32, 32, 3)  # originals at both ends of each row
    np.testing.assert_array_equal(strip[0], images[0])
    codes = model.encode(images[:2]).numpy()
    np.testing.assert_allclose(strip[1], model.decode(codes[:1]).numpy()[0], atol=1e-5)
    assert png_shape(tmp_path / "strip.png") == (2 * 32 + 3 * 2, 7 * 32 + 8 * 2, 3)
    from_codes = interpolation_strip(model, codes[0], codes[1], steps=3, method="linear")
    assert from_codes.shape == (3, 32, 32, 3)
    with pytest.raises(ValueError, match="codes of size 4"):
        interpolation_strip(model, np.zeros(5), np.zeros(5))

    z = np.arange(4, dtype=np.float32)
    swept = traverse(z, [1, 3], [-1.0, 0.0, 1.0])
    assert swept.shape == (2, 3, 4)
    np.testing.assert_array_equal(swept[0, :, 1], [-1, 0, 1])
    np.testing.assert_array_equal(swept[0, :, [0, 2, 3]], np.repeat(z[[0, 2, 3], None], 3, axis=1))
    grid = traversal_grid(model, z, dims=[0, 2], span=2.0, steps=3, path=tmp_path / "trav.png")
    assert grid.shape == (6, 32, 32, 3)
    np.testing.assert_allclose(grid[4], model.decode(z[None]).numpy()[0], atol=1e-5)  # centre column = z
    with pytest.raises(ValueError, match="out of range 0..3"):
        traverse(z, [4], [0.0])


def test_attribute_vectors_from_names():
    names = ("Eyeglasses", "Male", "Smiling")
    np.testing.assert_array_equal(attribute_vector(["Smiling", "Male"], names), [0, 1, 1])
    with pytest.raises(ValueError, match="unknown attribute 'Smilling'. Did you mean 'Smiling'"):
        attribute_vector(["Smilling"], names)
    assert parse_attribute_spec(" Male, Smiling ") == ["Male", "Smiling"] and parse_attribute_spec("none") == []
    assert len(latent_attribute_names(("a", "b"), 40)) == 40
    with pytest.raises(ValueError, match="classifier-encoder"):
        latent_attribute_names(("a", "b"), 8)

    model = build_preset("vae_tiny", latent_dim=3)  # stands in for a 3-attribute classifier encoder
    faces = generate_from_attributes(model, [["Male"], [], ["all"]], names)
    np.testing.assert_allclose(faces[0], model.decode(np.array([[0, 1, 0]], np.float32)).numpy()[0], atol=1e-6)
    np.testing.assert_allclose(faces[2], model.decode(np.ones((1, 3), np.float32)).numpy()[0], atol=1e-6)
    with pytest.raises(ValueError, match="has 4"):
        generate_from_attributes(build_preset("vae_tiny", latent_dim=4), [["Male"]], names)


def test_directions_are_mean_differences_and_round_trip(tmp_path):
    codes = np.array([[1.0, 0.0], [3.0, 2.0], [0.0, 2.0], [0.0, 0.0]])
    labels = np.array([[1, 1], [1, 1], [0, 1], [0, 1]])
    directions = AttributeDirections.from_latents(codes, labels, ["Smiling", "Young"])
    np.testing.assert_allclose(directions.direction("Smiling"), [2.0, 0.0])
    np.testing.assert_allclose(directions.edit(codes[2:3], "Smiling", 0.5), [[1.0, 2.0]])
    np.testing.assert_allclose(directions.edit(codes[2:3], "-Smiling"), [[-2.0, 2.0]])
    with pytest.raises(ValueError, match="no direction for 'Young': 4 faces with it, 0 without"):
        directions.direction("Young")
    restored = AttributeDirections.load(directions.save(tmp_path / "dirs.json"))
    np.testing.assert_array_equal(restored.direction("Smiling"), directions.direction("Smiling"))
    assert np.isnan(restored.directions[1]).all()


def test_adding_the_eyeglasses_direction_puts_glasses_on(tmp_path):
    """A small autoencoder on synthetic faces; a logistic regression on pixels
    scores glasses. Decoding codes moved along the Eyeglasses direction must
    raise the score of faces that had none."""
    import keras

    from tfface.data.synthetic import SYNTHETIC_ATTRIBUTES, synthetic_face_array
    from tfface.sampling import attribute_directions, edit_images

    images, attrs = synthetic_face_array(768, 32, seed=0, attribute_probabilities={"Eyeglasses": 0.5})
    images = images.astype(np.float32) / 255.0
    k = SYNTHETIC_ATTRIBUTES.index("Eyeglasses")
    train, test = slice(0, 512), slice(512, None)

    model = build_preset("ae_demo", image_size=(32, 32), widths=(16, 32), latent_dim=16, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    model.fit(images[train], epochs=8, batch_size=32, verbose=0)

    classifier = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    classifier.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=["accuracy"])
    classifier.fit(images[train], attrs[train, k], epochs=10, batch_size=64, verbose=0)
    assert classifier.evaluate(images[test], attrs[test, k], verbose=0)[1] > 0.9

    directions = attribute_directions(model, (images[train], attrs[train]), SYNTHETIC_ATTRIBUTES)
    without = images[test][attrs[test, k] == 0][:32]
    edits = edit_images(model, without, directions, ["Eyeglasses"], path=tmp_path / "edit.png")
    before = classifier.predict(edits["reconstruction"], verbose=0).mean()
    after = classifier.predict(edits["Eyeglasses"], verbose=0).mean()
    assert before < 0.4 and after > 0.6 and after - before > 0.4, (before, after)
    assert png_shape(tmp_path / "edit.png")[:2] == (3 * 32 + 4 * 2, 32 * 32 + 33 * 2)
