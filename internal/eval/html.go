package eval

import (
	"bytes"
	"fmt"
	"html/template"
)

// htmlListLimit caps each list of unscored inputs in index.html, which a
// browser must render; summary.json beside it lists them all.
const htmlListLimit = 500

var page = template.Must(template.New("index.html").Funcs(template.FuncMap{
	"num":    func(v float64, prec int) string { return num(v, prec) },
	"signed": func(v float64, prec int) string { return signed(v, prec) },
	"pct":    pct,
	"group":  func(name string, m Metrics) Group { return Group{Name: name, Metrics: m} },
	"capped": func(n int) bool { return n > htmlListLimit },
	"limit":  func() int { return htmlListLimit },
	"failures": func(fs []Failure) []Failure {
		if len(fs) > htmlListLimit {
			return fs[:htmlListLimit]
		}
		return fs
	},
	"names": func(ns []string) []string {
		if len(ns) > htmlListLimit {
			return ns[:htmlListLimit]
		}
		return ns
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>agegender evaluation</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 1em 0.5em 0; }
.note { color: #666; }
</style>
</head>
<body>
<h1>agegender evaluation</h1>
<p>Model <b>{{or .Model "-"}}</b> {{.ModelVersion}}, detection <b>{{or .Detect "-"}}</b>, split <b>{{or .Split "-"}}</b>{{if .Excluded}} ({{.Excluded}} files outside it skipped){{end}}.</p>
<p>{{.Counts.Inputs}} inputs: {{.Counts.Scored}} scored, {{.Counts.Failed}} failed, {{.Counts.Unlabelled}} unlabelled, {{.Counts.NoFace}} without a face{{if .Counts.MultiFace}}; {{.Counts.MultiFace}} scored inputs had several faces and their largest was used{{end}}.
All numbers are also in <a href="summary.json">summary.json</a>.</p>

<h2>Scores</h2>
<p class="note">Age errors in years, predicted minus true for the bias; within 5 y is the share of errors of at most 5 years. The age interval (age_low..age_high, for models that give one) covers the share of true ages shown; its level (80% unless --age-interval says otherwise) is the share it should cover.</p>
<table>
<tr><th>group</th><th>n</th><th>age MAE</th><th>age RMSE</th><th>within 5 y</th><th>age bias</th><th>gender accuracy</th><th>age interval: covers</th><th>mean width</th></tr>
{{template "row" (group "all" .Overall)}}
{{range .ByAge}}{{template "row" (group (print "age " .Name) .Metrics)}}{{end}}
{{range .ByRace}}{{template "row" (group .Name .Metrics)}}{{end}}
</table>

<h2>Gender confusion</h2>
<table>
<tr><th>true \ predicted</th><th>Male</th><th>Female</th></tr>
<tr><td>Male</td><td>{{.Overall.GenderConfusion.MaleAsMale}}</td><td>{{.Overall.GenderConfusion.MaleAsFemale}}</td></tr>
<tr><td>Female</td><td>{{.Overall.GenderConfusion.FemaleAsMale}}</td><td>{{.Overall.GenderConfusion.FemaleAsFemale}}</td></tr>
</table>

<h2>Plots</h2>
<img src="age_scatter.png" alt="Predicted vs true age">
<img src="mae_by_bucket.png" alt="Age MAE by true age bucket">
<img src="gender_by_bucket.png" alt="Gender accuracy by true age bucket">

{{if .Worst}}
<h2>Largest age errors</h2>
<table>
<tr><th>input</th><th>true age</th><th>predicted</th><th>error</th><th>true gender</th><th>predicted gender</th><th>faces</th></tr>
{{range .Worst}}<tr><td>{{.Input}}</td><td>{{num .TrueAge 0}}</td><td>{{num .PredAge 1}}</td><td>{{signed .AgeError 1}}</td><td>{{.TrueGender}}</td><td>{{.PredGender}}</td><td>{{.Faces}}</td></tr>
{{end}}</table>
{{end}}

{{if .Failed}}<h2>Failed ({{len .Failed}})</h2>
<ul>{{range failures .Failed}}<li>{{.Error}}</li>{{end}}</ul>
{{if capped (len .Failed)}}<p class="note">First {{limit}} shown; summary.json lists all.</p>{{end}}{{end}}
{{if .NoFace}}<h2>Without a face ({{len .NoFace}})</h2>
<ul>{{range names .NoFace}}<li>{{.}}</li>{{end}}</ul>
{{if capped (len .NoFace)}}<p class="note">First {{limit}} shown; summary.json lists all.</p>{{end}}{{end}}
{{if .Unlabelled}}<h2>Unlabelled ({{len .Unlabelled}})</h2>
<ul>{{range names .Unlabelled}}<li>{{.}}</li>{{end}}</ul>
{{if capped (len .Unlabelled)}}<p class="note">First {{limit}} shown; summary.json lists all.</p>{{end}}{{end}}
</body>
</html>
{{define "row"}}<tr><td>{{.Name}}</td><td>{{.N}}</td>{{if .N}}<td>{{num .AgeMAE 2}}</td><td>{{num .AgeRMSE 2}}</td><td>{{pct .AgeWithin5}}</td><td>{{signed .AgeBias 2}}</td><td>{{pct .GenderAccuracy}}</td>{{else}}<td>-</td><td>-</td><td>-</td><td>-</td><td>-</td>{{end}}{{if .IntervalN}}<td>{{pct .IntervalCoverage}}</td><td>{{num .IntervalWidth 1}}</td>{{else}}<td>-</td><td>-</td>{{end}}</tr>
{{end}}`))

func renderHTML(s Summary) ([]byte, error) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, s); err != nil {
		return nil, fmt.Errorf("render index.html: %w", err)
	}
	return buf.Bytes(), nil
}
