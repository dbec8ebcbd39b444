package main

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/minibuild/minibuild/builder"
	"github.com/minibuild/minibuild/cache"
	"github.com/minibuild/minibuild/dockerfile"
	"github.com/minibuild/minibuild/registry"
	"github.com/minibuild/minibuild/store"
)

// cacheSpec is one parsed --cache-to or --cache-from value.
type cacheSpec struct {
	loc  registry.CacheLocation
	mode string // "min" or "max"; --cache-to only
}

// parseCacheSpec parses "type=registry,ref=REF[,mode=min|max]" or
// "type=local,dest=DIR" (to) / "type=local,src=DIR" (from), with an
// optional tag=T for a directory. A value without "=" is a registry ref,
// as buildx reads it.
func parseCacheSpec(flag, s string, to bool) (cacheSpec, error) {
	spec := cacheSpec{mode: "min"}
	if !strings.Contains(s, "=") {
		spec.loc.Ref = s
		return spec, nil
	}
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return spec, fmt.Errorf("invalid %s %q: %w", flag, s, err)
	}
	kind := ""
	for _, field := range fields {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return spec, fmt.Errorf("invalid %s %q: %q is not KEY=VALUE", flag, s, field)
		}
		switch {
		case k == "type":
			kind = v
		case k == "ref":
			spec.loc.Ref = v
		case k == "dest" && to, k == "src" && !to:
			spec.loc.Dir = v
		case k == "tag":
			spec.loc.Tag = v
		case k == "mode" && to:
			if v != "min" && v != "max" {
				return spec, fmt.Errorf("invalid %s %q: mode must be min or max", flag, s)
			}
			spec.mode = v
		default:
			return spec, fmt.Errorf("invalid %s %q: unknown key %q", flag, s, k)
		}
	}
	switch kind {
	case "registry":
		if spec.loc.Ref == "" || spec.loc.Dir != "" || spec.loc.Tag != "" {
			return spec, fmt.Errorf("invalid %s %q: type=registry takes ref=NAME:TAG", flag, s)
		}
		r, err := registry.ParseRef(spec.loc.Ref)
		if err != nil {
			return spec, fmt.Errorf("invalid %s %q: %w", flag, s, err)
		}
		if to && r.Digest != "" {
			return spec, fmt.Errorf("invalid %s %q: name a tag, not a digest", flag, s)
		}
	case "local":
		key := "src"
		if to {
			key = "dest"
		}
		if spec.loc.Dir == "" || spec.loc.Ref != "" {
			return spec, fmt.Errorf("invalid %s %q: type=local takes %s=DIR", flag, s, key)
		}
	default:
		return spec, fmt.Errorf("invalid %s %q: type must be registry or local", flag, s)
	}
	return spec, nil
}

// cacheRecords lists the cache entries a --cache-to exports: with mode
// max those of every step built or reused; with min those of the final
// image's stage chain (the target stage and the stages it is FROM'd on).
// Entries whose layer is neither stored nor fetchable are left out.
func cacheRecords(res *builder.Result, mode string, df *dockerfile.Dockerfile, target string, c *cache.Cache, s *store.Store) []registry.CacheRecord {
	chain := finalChain(df, target)
	var out []registry.CacheRecord
	for _, st := range res.Steps {
		if st.Key == "" || (st.Cache != builder.CacheHit && st.Cache != builder.CacheMiss) {
			continue
		}
		if mode != "max" && !chain[st.Stage] {
			continue
		}
		e, ok, err := c.Get(st.Key)
		if err != nil || !ok || (e.Layer != nil && !s.CanGet(e.Layer.Digest)) {
			continue
		}
		out = append(out, registry.RecordOf(e))
	}
	return out
}

// finalChain returns the names (as builder.StepResult.Stage gives them)
// of the target stage and the stages it is built FROM, transitively.
func finalChain(df *dockerfile.Dockerfile, target string) map[string]bool {
	chain := map[string]bool{}
	if df == nil || len(df.Stages) == 0 {
		return chain
	}
	st := df.Stages[len(df.Stages)-1]
	for _, cand := range df.Stages {
		if target != "" && strings.EqualFold(cand.Name, target) {
			st = cand
		}
	}
	for st != nil && !chain[stageLabel(st)] {
		chain[stageLabel(st)] = true
		var next *dockerfile.Stage
		for _, prev := range df.Stages[:st.Index] {
			if (prev.Name != "" && strings.EqualFold(prev.Name, st.From.Image)) || strconv.Itoa(prev.Index) == st.From.Image {
				next = prev
				break
			}
		}
		st = next
	}
	return chain
}

// stageLabel is how the builder names a stage in its step results.
func stageLabel(st *dockerfile.Stage) string {
	if st.Name != "" {
		return st.Name
	}
	return strconv.Itoa(st.Index)
}
