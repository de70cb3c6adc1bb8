"""Evaluation metrics (outside the model classes)."""

from tfface.metrics.image import mse, psnr, ssim

__all__ = ["mse", "psnr", "ssim"]
