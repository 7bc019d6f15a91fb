package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"helm.sh/helm/v3/pkg/ignore"
)

// ChartChecksum hashes the chart as Helm loads it: every file its
// .helmignore (and Helm's own default rules) leave in. pulumi-kubernetes only
// notices a local chart's template edits when Chart.yaml's version changes;
// passing this hash in the values makes any edit a change of the Release,
// and an edit of a file Helm ignores (the README) no change at all.
func ChartChecksum(chartDir string) (string, error) {
	rules := ignore.Empty()
	if _, err := os.Stat(filepath.Join(chartDir, ignore.HelmIgnore)); err == nil {
		if rules, err = ignore.ParseFile(filepath.Join(chartDir, ignore.HelmIgnore)); err != nil {
			return "", fmt.Errorf("%s/%s: %w", chartDir, ignore.HelmIgnore, err)
		}
	} else if !os.IsNotExist(err) {
		return "", err
	}
	rules.AddDefaults()
	// As Helm's loader: an ignored directory is skipped whole.
	return hashTree(chartDir, func(rel string, d fs.DirEntry) (bool, error) {
		info, err := d.Info()
		if err != nil {
			return false, err
		}
		return rules.Ignore(rel, info), nil
	}, true)
}

// ContextHash hashes a Docker build context the way the build sees it: every
// file not excluded by the context's .dockerignore, with its path and mode.
// Image tags derive from it, so an unchanged source keeps its tag (no
// rebuild, no rollout) and any change to what the build copies gets a new one.
func ContextHash(contextDir string) (string, error) {
	var pm *patternmatcher.PatternMatcher
	excluded := func(rel string, _ fs.DirEntry) (bool, error) { return false, nil }
	if f, err := os.Open(filepath.Join(contextDir, ".dockerignore")); err == nil {
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("%s/.dockerignore: %w", contextDir, err)
		}
		if pm, err = patternmatcher.New(patterns); err != nil {
			return "", fmt.Errorf("%s/.dockerignore: %w", contextDir, err)
		}
		excluded = func(rel string, _ fs.DirEntry) (bool, error) { return pm.MatchesOrParentMatches(rel) }
	} else if !os.IsNotExist(err) {
		return "", err
	}
	// A directory may hold re-included files ("!keep"), so it is only
	// skipped whole when no exclusion pattern could bring one back.
	return hashTree(contextDir, excluded, pm != nil && !pm.Exclusions())
}

// hashTree returns the hex SHA-256 over the sorted relative paths, modes and
// contents of the regular files under root that excluded does not exclude
// (rel is slash-separated); with pruneDirs an excluded directory is skipped
// whole.
func hashTree(root string, excluded func(rel string, d fs.DirEntry) (bool, error), pruneDirs bool) (string, error) {
	type entry struct {
		rel  string
		path string
		mode fs.FileMode
	}
	var files []entry
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		skip, err := excluded(rel, d)
		if err != nil {
			return err
		}
		if skip && d.IsDir() && pruneDirs {
			return filepath.SkipDir
		}
		if skip {
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, entry{rel: rel, path: path, mode: info.Mode().Perm() & 0o111})
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })

	h := sha256.New()
	for _, f := range files {
		// Length-prefix the path so ("a", "bc") and ("ab", "c") differ.
		fmt.Fprintf(h, "%d:%s:%o:", len(f.rel), f.rel, f.mode)
		in, err := os.Open(f.path)
		if err != nil {
			return "", err
		}
		info, _ := in.Stat()
		fmt.Fprintf(h, "%d:", info.Size())
		_, err = io.Copy(h, in)
		in.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
