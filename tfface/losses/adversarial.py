"""Hinge losses of the adversarial term and VQGAN's adaptive weight."""

from keras import ops

ADAPTIVE_WEIGHT_MAX = 1e4
_ADAPTIVE_EPSILON = 1e-4


def hinge_discriminator_loss(logits_real, logits_fake):
    """The discriminator's hinge loss, ½·(mean relu(1 − D(x)) + mean relu(1 + D(x̂))),
    averaged over every patch logit of the batch.

    Example:

    >>> float(hinge_discriminator_loss(np.array([2.0, 0.5]), np.array([-1.0, 1.0])))
    0.625
    """
    real = ops.mean(ops.relu(1.0 - ops.cast(logits_real, "float32")))
    fake = ops.mean(ops.relu(1.0 + ops.cast(logits_fake, "float32")))
    return 0.5 * (real + fake)


def hinge_generator_loss(logits_fake):
    """The generator's hinge loss, −mean D(x̂) over every patch logit.

    Example:

    >>> float(hinge_generator_loss(np.array([1.0, -3.0])))
    1.0
    """
    return -ops.mean(ops.cast(logits_fake, "float32"))


def adaptive_weight(reconstruction_gradient, adversarial_gradient, scale=1.0):
    """VQGAN's λ = ‖∇L_rec‖ / (‖∇L_GAN‖ + 1e-4), clipped to [0, 1e4], from the
    two losses' gradients at the decoder's last layer, as a constant (no
    gradient flows through it).

    `scale` is the factor both gradients carry (loss scaling, division by
    the replicas); the 1e-4 is scaled with them so λ is that of the
    unscaled losses.

    Example:

    >>> round(float(adaptive_weight(np.array([3.0, 4.0]), np.array([0.0, 0.5]))), 3)
    9.998
    """
    rec = ops.sqrt(ops.sum(ops.square(ops.cast(reconstruction_gradient, "float32"))))
    adv = ops.sqrt(ops.sum(ops.square(ops.cast(adversarial_gradient, "float32"))))
    weight = rec / (adv + _ADAPTIVE_EPSILON * ops.cast(scale, "float32"))
    return ops.stop_gradient(ops.clip(weight, 0.0, ADAPTIVE_WEIGHT_MAX))


def lecam_regularizer(logits_real, logits_fake, anchor_real, anchor_fake):
    """LeCam's regulariser of the discriminator, as in the authors' code:
    mean relu(D(x) − α_F)² + mean relu(α_R − D(x̂))², with α_R and α_F the
    moving averages of D's mean real and fake outputs (constants here). It
    keeps D's real and fake outputs from drifting apart once they straddle
    the anchors, which bounds what D can memorise of a small training set.

    Example:

    >>> float(lecam_regularizer(np.array([1.0, -1.0]), np.array([0.0]), 0.5, -0.5))
    1.375

    Reference:
        Tseng et al., "Regularizing Generative Adversarial Networks under
        Limited Data", CVPR 2021 (google/lecam-gan, `lecam_reg`).
    """
    real = ops.cast(logits_real, "float32")
    fake = ops.cast(logits_fake, "float32")
    anchor_real = ops.stop_gradient(ops.cast(anchor_real, "float32"))
    anchor_fake = ops.stop_gradient(ops.cast(anchor_fake, "float32"))
    return ops.mean(ops.square(ops.relu(real - anchor_fake))) + ops.mean(ops.square(ops.relu(anchor_real - fake)))
