package eval

// bucketNames are the true-age groups every evaluation reports: UTKFace is
// skewed (about 30% are under 10), so an overall MAE alone hides how each
// age range fares.
var bucketNames = [...]string{"0-9", "10-19", "20-39", "40-59", "60+"}

// bucketOf is the index in bucketNames of a true age; fractional ages belong to
// the bucket of their whole years.
func bucketOf(age float64) int {
	switch {
	case age < 10:
		return 0
	case age < 20:
		return 1
	case age < 40:
		return 2
	case age < 60:
		return 3
	}
	return 4
}
