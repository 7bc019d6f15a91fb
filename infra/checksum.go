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
)

// ChartChecksum hashes every file of the chart. pulumi-kubernetes only
// notices a local chart's template edits when Chart.yaml's version changes;
// passing this hash in the values makes any edit a change of the Release.
func ChartChecksum(chartDir string) (string, error) {
	return hashTree(chartDir, nil)
}

// ContextHash hashes a Docker build context the way the build sees it: every
// file not excluded by the context's .dockerignore, with its path and mode.
// Image tags derive from it, so an unchanged source keeps its tag (no
// rebuild, no rollout) and any change to what the build copies gets a new one.
func ContextHash(contextDir string) (string, error) {
	var pm *patternmatcher.PatternMatcher
	if f, err := os.Open(filepath.Join(contextDir, ".dockerignore")); err == nil {
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("%s/.dockerignore: %w", contextDir, err)
		}
		if pm, err = patternmatcher.New(patterns); err != nil {
			return "", fmt.Errorf("%s/.dockerignore: %w", contextDir, err)
		}
	} else if !os.IsNotExist(err) {
		return "", err
	}
	return hashTree(contextDir, pm)
}

// hashTree returns the hex SHA-256 over the sorted relative paths, modes and
// contents of the regular files under root that pm (if any) does not exclude.
func hashTree(root string, pm *patternmatcher.PatternMatcher) (string, error) {
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
		if pm != nil {
			excluded, err := pm.MatchesOrParentMatches(rel)
			if err != nil {
				return err
			}
			// A directory may hold re-included files ("!keep"), so only
			// skip it whole when no exclusion pattern could bring one back.
			if excluded && d.IsDir() && !pm.Exclusions() {
				return filepath.SkipDir
			}
			if excluded {
				return nil
			}
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
