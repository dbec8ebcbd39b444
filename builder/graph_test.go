package builder

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestJobsDoNotChangeResults builds Dockerfiles whose stages can run at
// once (some sharing steps, some sharing a base) with --jobs 1 and with
// many jobs, twice each (cold, then after a change), and wants the same
// steps, reasons, keys and image digests.
func TestJobsDoNotChangeResults(t *testing.T) {
	for _, c := range []struct {
		name, dockerfile string
		change           map[string]string
		platforms        []string
	}{
		{name: "two stages joined", dockerfile: "FROM scratch AS a\nRUN echo a > /a\nFROM scratch AS b\nRUN echo b > /b\nFROM scratch\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n"},
		{name: "stages sharing their first steps", dockerfile: "FROM scratch AS a\nRUN echo same > /s\nRUN echo a > /a\nFROM scratch AS b\nRUN echo same > /s\nRUN echo b > /b\nFROM scratch AS c\nRUN echo same > /s\nCOPY f /f\nFROM scratch\nCOPY --from=a /a /a\nCOPY --from=b /b /b\nCOPY --from=c /f /f\n",
			change: map[string]string{"f": "2"}},
		{name: "identical stages", dockerfile: "FROM scratch AS a\nCOPY f /f\nRUN echo x > /x\nFROM scratch AS b\nCOPY f /f\nRUN echo x > /x\nFROM scratch\nCOPY --from=a /x /a\nCOPY --from=b /x /b\n",
			change: map[string]string{"f": "3"}},
		{name: "a stage built from another with siblings", dockerfile: "FROM scratch AS base\nRUN echo b > /b\nFROM base AS x\nRUN echo x > /x\nFROM base AS y\nRUN echo y > /y\nFROM x\nCOPY --from=y /y /y\n"},
		{name: "platforms sharing a build-platform stage", dockerfile: "FROM --platform=$BUILDPLATFORM scratch AS build\nARG TARGETARCH\nRUN echo tools > /tools\nRUN echo $TARGETARCH > /out\nFROM scratch\nCOPY --from=build /out /out\nCOPY f /f\n",
			platforms: []string{"linux/amd64", "linux/arm64"}, change: map[string]string{"f": "4"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var got [2][]string
			for i, jobs := range []int{1, 8} {
				h := newHarness(t)
				h.write(map[string]string{"Dockerfile": c.dockerfile, "f": "1"})
				set := Settings{Jobs: jobs}
				for _, p := range c.platforms {
					a, _ := strings.CutPrefix(p, "linux/")
					set.Platforms = append(set.Platforms, ocispec.Platform{OS: "linux", Architecture: a})
				}
				for round := 0; round < 2; round++ {
					if round == 1 {
						if c.change == nil {
							break
						}
						h.write(c.change)
					}
					res, err := h.build("Dockerfile", set)
					if err != nil {
						t.Fatalf("jobs %d: %v", jobs, err)
					}
					var steps []StepJSON
					for _, s := range res.Steps {
						steps = append(steps, s.JSON())
					}
					j, _ := json.Marshal(struct {
						Manifest string
						Steps    []StepJSON
						Graph    []StageNode
					}{string(res.Manifest.Digest), steps, res.Graph})
					got[i] = append(got[i], string(j))
				}
			}
			for r := range got[0] {
				if got[0][r] != got[1][r] {
					t.Errorf("round %d: --jobs 1 and --jobs 8 differ:\n%s\n%s", r+1, got[0][r], got[1][r])
				}
			}
		})
	}
}

// TestPlatforms builds two platforms in one build: an index of two
// images, a stage for the build platform built once and found cached by
// the other platform, TARGETARCH per platform.
func TestPlatforms(t *testing.T) {
	h := newHarness(t)
	h.write(map[string]string{"Dockerfile": "FROM --platform=$BUILDPLATFORM scratch AS build\nRUN echo tools > /tools\nARG TARGETARCH\nRUN echo $TARGETARCH > /arch\nFROM scratch\nCOPY --from=build /arch /arch\n"})
	set := Settings{Platforms: []ocispec.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}}
	res, err := h.build("Dockerfile", set)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.MediaType != ocispec.MediaTypeImageIndex || len(res.Images) != 2 {
		t.Fatalf("result %s with %d images, want an index of 2", res.Manifest.MediaType, len(res.Images))
	}
	for i, arch := range []string{"amd64", "arm64"} {
		im := res.Images[i]
		if im.Platform.Architecture != arch || im.Image.Architecture != arch || im.Manifest.Platform == nil || im.Manifest.Platform.Architecture != arch {
			t.Errorf("image %d: platform %+v, config %s, want %s", i, im.Platform, im.Image.Architecture, arch)
		}
	}
	var caches []string
	for _, s := range res.Steps {
		caches = append(caches, s.Platform+" "+s.Stage+" "+string(s.Cache))
	}
	want := []string{
		"linux/amd64 build base", "linux/amd64 build miss", "linux/amd64 build miss", "linux/amd64 build miss",
		"linux/amd64 1 base", "linux/amd64 1 miss",
		"linux/arm64 build base", "linux/arm64 build hit", "linux/arm64 build hit", "linux/arm64 build miss", // ARG keeps no value in its key: the RUN that reads it misses
		"linux/arm64 1 base", "linux/arm64 1 miss",
	}
	if strings.Join(caches, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(caches, "\n"), strings.Join(want, "\n"))
	}
	if n := len(h.exec.ran()); n != 3 {
		t.Errorf("%d processes ran, want 3 (tools once, the arch for each platform)", n)
	}
}

// TestStagePlatformErrors: a FROM --platform that does not parse fails
// at its line; a RUN the machine cannot run fails before running, with
// what CanRun said.
func TestStagePlatformErrors(t *testing.T) {
	h := newHarness(t)
	h.write(map[string]string{"Dockerfile": "FROM scratch\nFROM --platform=linux scratch\n"})
	if _, err := h.build("Dockerfile", Settings{}); err == nil || !strings.Contains(err.Error(), "Dockerfile:2: FROM --platform=linux: invalid platform") {
		t.Errorf("bad --platform: %v", err)
	}
	h.write(map[string]string{"Dockerfile": "FROM scratch\nRUN true\n"})
	h.canRun = func(p ocispec.Platform) error {
		if p.Architecture == "s390x" {
			return errors.New("no binfmt_misc handler for linux/s390x: run 'apt-get install qemu-user-static'")
		}
		return nil
	}
	res, err := h.build("Dockerfile", Settings{Platforms: []ocispec.Platform{{OS: "linux", Architecture: "s390x"}}})
	if err == nil || !strings.Contains(err.Error(), "Dockerfile:2: RUN for linux/s390x: no binfmt_misc handler") || res != nil {
		t.Errorf("RUN without an emulator: %v", err)
	}
	if n := len(h.exec.ran()); n != 0 {
		t.Errorf("%d processes ran, want none", n)
	}
}

// TestPlatformMissReason: a build for another platform than the last one
// (one record, one platform at a time) misses at its first step because
// of the platform, and says so; the steps after it cascade.
func TestPlatformMissReason(t *testing.T) {
	h := newHarness(t)
	h.write(map[string]string{"Dockerfile": "FROM scratch\nRUN echo a > /a\nRUN echo b > /b\n"})
	amd := Settings{Platforms: []ocispec.Platform{{OS: "linux", Architecture: "amd64"}}}
	arm := Settings{Platforms: []ocispec.Platform{{OS: "linux", Architecture: "arm64"}}}
	for _, tc := range []struct {
		name string
		set  Settings
		want []string
	}{
		{"first", amd, []string{"", "new: no earlier build of this Dockerfile is known", "parent: cascade from step 2, line 2"}},
		{"other platform", arm, []string{"", "platform: built for linux/arm64, the earlier build for linux/amd64", "parent: cascade from step 2, line 2"}},
		{"same platform again", arm, []string{"", "", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.build("Dockerfile", tc.set)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range res.Steps {
				got = append(got, s.Reason.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("reasons:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
