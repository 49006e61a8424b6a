package preprocess

// The detector's padded retry. Tight face crops (like UTKFace's) leave the
// detector no margin, so a miss is retried on a copy of the image with a
// grey margin of CropPadding of its long side on every side. Measured: bare
// 200x200 crops 180/200 found, padded 198/200. The engine makes the copy
// and memory budgets charge for it, so both read these from here.
const CropPadding = 0.3

// PaddedMaxSide bounds the padded retry: a larger image is shrunk to this
// long side (Downscale) before its margin is added, so the copy stays under
// 11 MB however large the photo (a 100000x1 strip once asked for 38 GB). The
// retry is for tight face crops, which are far smaller than this.
const PaddedMaxSide = 1024

// PaddedCost is what a memory budget charges, in bytes, for the padded copy
// of a width x height image: an NRGBA square on the long side after
// shrinking, margins included, which the copy never exceeds.
func PaddedCost(width, height int) int64 {
	side := (1 + 2*CropPadding) * float64(min(max(width, height), PaddedMaxSide))
	return int64(4 * side * side)
}
