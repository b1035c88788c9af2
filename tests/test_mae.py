"""Masked autoencoders: the patch layers, the transformer block and the model, against NumPy
oracles and closed forms, on every backend."""

import numpy as np
import pytest
import keras
from keras import ops

import keras_ae
from keras_ae.layers import (MaskedPatchLoss, MaskTokens, Patchify, RandomPatchMasking,
                             SinCosPositionEmbedding, TransformerBlock, Unpatchify,
                             sincos_position_table)
from keras_ae.testing import run_layer_test, run_model_test

#: a small MAE for 28×28 digits: 16 patches of 7×7, 4 of them visible
SMALL = dict(patch_size=7, width=16, depth=1, num_heads=2, mlp_ratio=2.0, decoder_width=8,
             decoder_depth=1, decoder_num_heads=2)


def np_(t):
    return ops.convert_to_numpy(t)


def patchify_oracle(x, p):
    """Patches numbered row by row, each patch's pixels row-major, channels last."""
    n, h, w, c = x.shape
    out = []
    for i in range(0, h, p):
        for j in range(0, w, p):
            out.append(x[:, i:i + p, j:j + p, :].reshape(n, -1))
    return np.stack(out, axis=1)


def sincos_oracle(gh, gw, dim):
    """MAE's table (get_2d_sincos_pos_embed), written out with NumPy."""
    def one_d(d, pos):
        omega = 1.0 / 10000 ** (np.arange(d // 2, dtype=np.float64) / (d / 2.0))
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    grid_w, grid_h = np.meshgrid(np.arange(gw, dtype=np.float64), np.arange(gh, dtype=np.float64))
    return np.concatenate([one_d(dim // 2, grid_w), one_d(dim // 2, grid_h)], axis=1)


@pytest.mark.parametrize("shape, p", [((2, 8, 12, 3), 4), ((3, 28, 28, 1), 7)])
def test_patchify_matches_numpy_and_unpatchify_inverts_it(shape, p):
    x = np.random.default_rng(0).random(shape).astype("float32")
    patches = run_layer_test(Patchify, {"patch_size": p}, x,
                             expected_output_shape=(shape[0], shape[1] * shape[2] // p // p,
                                                    p * p * shape[3]))
    np.testing.assert_array_equal(np_(patches), patchify_oracle(x, p))
    back = run_layer_test(Unpatchify, {"patch_size": p, "image_shape": shape[1:]}, np_(patches),
                          expected_output_shape=shape)
    np.testing.assert_array_equal(np_(back), x)


def test_sincos_table_equals_the_numpy_formula():
    np.testing.assert_allclose(np_(sincos_position_table(3, 5, 16)), sincos_oracle(3, 5, 16),
                               atol=1e-5)
    tokens = np.random.default_rng(1).random((2, 12, 8)).astype("float32")
    out = run_layer_test(SinCosPositionEmbedding, {"grid_size": (4, 3)}, tokens,
                         expected_output_shape=tokens.shape)
    np.testing.assert_allclose(np_(out), tokens + sincos_oracle(4, 3, 8)[None], atol=1e-5)


def test_masking_keeps_the_exact_ratio_and_differs_across_images_and_seeds():
    tokens = np.random.default_rng(2).random((8, 16, 4)).astype("float32")
    # (the battery with fixed masks at inference: the same number of tokens in training and
    # inference, deterministic outputs for the .keras check)
    run_layer_test(RandomPatchMasking, {"mask_ratio": 0.75, "seed": 1, "inference_masks": "fixed"},
                   tokens, expected_output_shape=[(8, 4, 4), (8, 16), (8, 16)])
    layer = RandomPatchMasking(0.75, seed=1)
    visible, mask, restore = (np_(t) for t in layer(tokens, training=True))
    assert visible.shape == (8, 4, 4) and mask.shape == (8, 16)
    np.testing.assert_array_equal(mask.sum(axis=1), 12)  # exactly 75 % of every image
    assert len({tuple(m) for m in mask}) > 1  # images are masked differently
    for b in range(8):
        # the visible tokens are exactly the unmasked ones
        kept = tokens[b][mask[b] == 0]
        assert sorted(map(tuple, visible[b])) == sorted(map(tuple, kept))
        # restore undoes the shuffle: visible first, then the dropped, back in patch order
        dropped = tokens[b][mask[b] == 1]  # (their order among themselves does not matter)
        shuffled_rows = np.concatenate([visible[b], dropped])
        assert sorted(restore[b]) == list(range(16))  # a permutation
        restored = shuffled_rows[restore[b]]
        np.testing.assert_array_equal(restored[mask[b] == 0], tokens[b][mask[b] == 0])
    other = np_(RandomPatchMasking(0.75, seed=2)(tokens, training=True)[1])
    assert not np.array_equal(other, mask)
    again = np_(RandomPatchMasking(0.75, seed=1)(tokens, training=True)[1])
    np.testing.assert_array_equal(again, mask)  # seeded
    # at inference nothing is masked, or the same fixed draw every call, or fresh draws
    visible, mask, restore = (np_(t) for t in layer(tokens, training=False))
    np.testing.assert_array_equal(visible, tokens)
    assert mask.sum() == 0 and (restore == np.arange(16)).all()
    fixed = RandomPatchMasking(0.75, seed=3, inference_masks="fixed")
    first = np_(fixed(tokens)[1])
    np.testing.assert_array_equal(np_(fixed(tokens)[1]), first)
    np.testing.assert_array_equal(first.sum(axis=1), 12)
    fresh = RandomPatchMasking(0.75, seed=3, inference_masks="random")
    assert not np.array_equal(np_(fresh(tokens)[1]), np_(fresh(tokens)[1]))


def test_mask_tokens_fill_the_masked_positions():
    tokens = np.random.default_rng(3).random((4, 16, 8)).astype("float32")
    visible, mask, restore = RandomPatchMasking(0.5, seed=0)(tokens, training=True)
    layer = MaskTokens()
    out = np_(layer([visible, restore]))
    token = np_(layer.mask_token)
    mask = np_(mask)
    np.testing.assert_array_equal(out[mask == 0], tokens[mask == 0])
    np.testing.assert_array_equal(out[mask == 1], np.broadcast_to(token, (int(mask.sum()), 8)))
    run_layer_test(MaskTokens, {}, [np_(visible), np_(restore)], expected_output_shape=(4, 16, 8))


@pytest.mark.parametrize("norm_pix", [False, True])
def test_masked_patch_loss_ignores_visible_patches(norm_pix):
    rng = np.random.default_rng(4)
    target = rng.random((3, 6, 5)).astype("float32")
    prediction = rng.random((3, 6, 5)).astype("float32")
    mask = (rng.random((3, 6)) < 0.5).astype("float32")
    mask[0, 0] = 1

    def loss_of(pred):
        layer = MaskedPatchLoss(norm_pix_loss=norm_pix)
        out = layer([target, pred, mask])
        return float(np_(layer.losses[0])), np_(out)

    t = target
    if norm_pix:
        t = (t - t.mean(-1, keepdims=True)) / np.sqrt(t.var(-1, keepdims=True) + 1e-6)
    expected = ((prediction - t) ** 2).mean(-1)[mask == 1].mean()
    loss, out = loss_of(prediction)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    changed = prediction.copy()
    changed[mask == 0] += 10.0  # only visible patches change
    np.testing.assert_allclose(loss_of(changed)[0], loss, rtol=1e-6)
    if norm_pix:  # the output is the prediction in pixel space
        np.testing.assert_allclose(
            out, prediction * np.sqrt(target.var(-1, keepdims=True) + 1e-6)
            + target.mean(-1, keepdims=True), atol=1e-5)


def test_transformer_block_is_permutation_equivariant_and_takes_any_length():
    x = np.random.default_rng(5).random((2, 6, 8)).astype("float32")
    run_layer_test(TransformerBlock, {"num_heads": 2}, x, expected_output_shape=x.shape)
    block = TransformerBlock(2)
    out = np_(block(x))
    perm = np.random.default_rng(6).permutation(6)
    np.testing.assert_allclose(np_(block(x[:, perm])), out[:, perm], atol=1e-5)
    assert np_(block(x[:, :3])).shape == (2, 3, 8)


@pytest.mark.parametrize("config, argument", [
    (dict(input_shape=(28, 28, 1), patch_size=5), "patch_size"),
    (dict(mask_ratio=1.0), "mask_ratio"),
    (dict(mask_ratio=-0.1), "mask_ratio"),
    (dict(width=30, num_heads=4), "width"),
    (dict(decoder_width=20, decoder_num_heads=3), "decoder_width"),
])
def test_bad_configuration_names_the_argument(config, argument):
    with pytest.raises(ValueError, match=argument):
        keras_ae.models.build("mae", **config)


def test_mae_battery(images):
    model = keras_ae.models.build("mae", seed=0, **SMALL)
    run_model_test(model, images, export_full_model=False)


def test_encoder_sees_only_visible_patches_and_runs_on_all_at_inference(images):
    model = keras_ae.models.build("mae", seed=0, **SMALL)  # 16 patches, 4 visible
    out = model.masked_outputs(images)
    assert out["tokens"].shape == (8, 4, 16)
    np.testing.assert_array_equal(out["mask"].sum(axis=1), 12)
    # visible patches of the reconstruction are the input's
    keep = np.repeat(np.repeat((1 - out["mask"]).reshape(8, 4, 4), 7, 1), 7, 2)[..., None]
    np.testing.assert_allclose(out["reconstruction"] * keep, images * keep, atol=1e-6)
    np.testing.assert_allclose(out["masked_input"], images * keep, atol=1e-6)
    code = model.encode(images)
    assert code.shape == (8, 16)
    np.testing.assert_array_equal(model.encode(images), code)  # deterministic
    # model(x) at inference: fixed masks, so evaluate/val_loss is a deterministic masked-patch loss
    model.compile()
    first = model.evaluate(images, images, verbose=0)
    assert first > 0 and model.evaluate(images, images, verbose=0) == pytest.approx(first)



def test_classifier_fine_tunes_the_encoder(images):
    model = keras_ae.models.build("mae", seed=0, **SMALL)
    clf = model.classifier(10)
    assert clf.output.shape == (None, 10)
    before = model.encode(images)
    clf.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    clf.fit(images, np.arange(8), epochs=1, batch_size=8, verbose=0)
    assert not np.allclose(model.encode(images), before)  # shared weights moved
    with pytest.raises(ValueError, match="num_classes"):
        model.classifier(1)


@pytest.mark.parametrize("shape, patches, visible", [((28, 28, 1), 49, 12), ((32, 32, 3), 64, 16)])
def test_defaults_fit_mnist_and_cifar_sized_images(shape, patches, visible):
    model = keras_ae.models.build("mae", input_shape=shape)
    assert (model.num_patches, model.num_visible) == (patches, visible)
    assert model.encoder.output.shape == (None, 128)
