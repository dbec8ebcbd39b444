package registry

import (
	"sort"

	"github.com/minibuild/minibuild/cache"
	digest "github.com/opencontainers/go-digest"
)

// Nearest finds, among the imported entries that record their inputs,
// the one closest to a step that missed: one chained on the same parent
// key whose instruction has the same text, else one at the same position
// of the same stage, else any one on that parent. It returns its inputs
// and where it was imported from (the location's text), for a reason
// that says what differs. Ties go to the first source, then the smallest
// key, so the answer does not depend on map order.
func (rc *RemoteCache) Nearest(parent digest.Digest, stage string, position int, text string) (cache.Inputs, string, bool) {
	for _, s := range rc.sources {
		var best *CacheRecord
		bestRank := 0
		keys := make([]digest.Digest, 0, len(s.records))
		for k := range s.records {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for _, k := range keys {
			r := s.records[k]
			in := r.Inputs
			if in == nil || in.Parent != parent {
				continue
			}
			rank := 1
			switch {
			case in.Text == text:
				rank = 3
			case in.Stage == stage && in.Position == position:
				rank = 2
			}
			if rank > bestRank {
				best, bestRank = &r, rank
			}
		}
		if best != nil {
			return *best.Inputs, s.loc.String(), true
		}
	}
	return cache.Inputs{}, "", false
}
