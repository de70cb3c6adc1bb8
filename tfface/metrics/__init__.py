"""Evaluation metrics (outside the model classes): reconstruction (MSE,
PSNR, SSIM), attribute accuracy, FID/KID, and `evaluate_run`."""

from tfface.metrics.attributes import attribute_accuracy, attribute_predictor
from tfface.metrics.evaluate import EvaluationOptions, evaluate_run, reconstruction_metrics
from tfface.metrics.fid import (
    FID_NETWORKS,
    InceptionFeatures,
    TFGANInceptionFeatures,
    fid_network,
    fid_from_features,
    frechet_distance,
    gaussian_statistics,
    generation_scores,
    kid_from_features,
)
from tfface.metrics.image import mse, psnr, psnr_from_mse, ssim, to_unit
from tfface.metrics.report import csv_text, markdown_table, write_metrics

__all__ = [
    "EvaluationOptions",
    "FID_NETWORKS",
    "InceptionFeatures",
    "TFGANInceptionFeatures",
    "fid_network",
    "attribute_accuracy",
    "attribute_predictor",
    "csv_text",
    "evaluate_run",
    "fid_from_features",
    "frechet_distance",
    "gaussian_statistics",
    "generation_scores",
    "kid_from_features",
    "markdown_table",
    "mse",
    "psnr",
    "psnr_from_mse",
    "reconstruction_metrics",
    "ssim",
    "to_unit",
    "write_metrics",
]
