"""Metrics, evaluation over folders of images, reports and figures."""
