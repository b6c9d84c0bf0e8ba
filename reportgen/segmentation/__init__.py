"""Segmentation: the features (transforms, clipping, scaling), the validity indices (INDICES), the algorithms
(ALGORITHMS), the k sweep and the final fit, the gap statistic, stability and the agreement between methods."""
