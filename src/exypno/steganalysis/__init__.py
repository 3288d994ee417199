"""Steganalysis: structural LSB detectors (chi-square, RS, sample pairs, primary sets, their fusion)."""
from .structural import DETECTORS, THRESHOLD, analyze, chi_square, primary_sets, rs_analysis, sample_pairs

__all__ = ["DETECTORS", "THRESHOLD", "analyze", "chi_square", "primary_sets", "rs_analysis", "sample_pairs"]
