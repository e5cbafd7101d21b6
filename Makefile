# Every Go module in the repository: the library, its examples, the
# benchmark harness and the optional backends (each its own module, so their
# dependencies never reach the library's go.mod).
MODULES := $(patsubst %/go.mod,%,$(wildcard go.mod */go.mod))
MODULES := $(patsubst go.mod,.,$(MODULES))
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GO ?= go

.PHONY: test lint bench compare tidy

## test: every module's tests with the race detector, never cached, then the
## root module's allocation and stack budgets without it (they skip under -race)
test:
	@set -e; for m in $(MODULES); do \
		echo "== go test -race $$m"; \
		(cd $$m && $(GO) test -race -count=1 -timeout=15m ./...); \
	done
	@echo "== go test (no race): the allocation and stack budgets the race detector would skip"
	@$(GO) test -count=1 -run 'Allocs|StackPerParkedTask' ./...

## lint: gofmt, go vet and staticcheck (pinned) on every module
lint:
	@set -e; out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do \
		echo "== vet + staticcheck $$m"; \
		(cd $$m && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...); \
	done

## bench: every module's benchmarks (go test -bench), benchstat-readable
bench:
	@set -e; for m in $(MODULES); do \
		(cd $$m && $(GO) test -run='^$$' -bench=. -benchmem ./...); \
	done

## compare: the side-by-side comparison of every strategy, peers and Python
compare:
	cd bench && $(GO) run ./cmd/compare $(ARGS)

## tidy: fail when a go.mod or go.sum is not tidy
tidy:
	@set -e; for m in $(MODULES); do \
		(cd $$m && $(GO) mod tidy -diff); \
	done
