module github.com/execkit/execkit/examples

go 1.25.0

require (
	github.com/chromedp/chromedp v0.23.0
	github.com/execkit/execkit v0.0.0
	github.com/execkit/execkit/riverexec v0.0.0
	github.com/jackc/pgx/v5 v5.13.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	github.com/riverqueue/river v0.30.2 // indirect
	github.com/riverqueue/river/riverdriver v0.30.2 // indirect
	github.com/riverqueue/river/riverdriver/riverpgxv5 v0.30.2 // indirect
	github.com/riverqueue/river/rivershared v0.30.2 // indirect
	github.com/riverqueue/river/rivertype v0.30.2 // indirect
	github.com/stretchr/testify v1.11.1 // indirect
	github.com/tidwall/gjson v1.18.0 // indirect
	github.com/tidwall/match v1.2.0 // indirect
	github.com/tidwall/pretty v1.2.1 // indirect
	github.com/tidwall/sjson v1.2.5 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
)

require github.com/panjf2000/ants/v2 v2.12.1 // indirect

replace github.com/execkit/execkit => ../

replace github.com/execkit/execkit/riverexec => ../riverexec
