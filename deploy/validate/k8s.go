package main

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8sjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// scheme knows the built-in API groups the manifests may use. It is built
// from k8s.io/api directly rather than client-go's kubernetes/scheme: the
// same types, without the client-go module and the forty API groups nobody
// here uses. A kind of another group is reported, not skipped: add its
// group here when the manifests need it.
var scheme = runtime.NewScheme()

func init() {
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, autoscalingv2.AddToScheme,
		policyv1.AddToScheme, networkingv1.AddToScheme, rbacv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
}

// strictDecoder decodes YAML into the registered types and fails on unknown
// fields, duplicate fields and values of the wrong type.
var strictDecoder = k8sjson.NewSerializerWithOptions(k8sjson.DefaultMetaFactory, scheme, scheme,
	k8sjson.SerializerOptions{Yaml: true, Strict: true})

const originAnnotation = "config.kubernetes.io/origin"

// Object is one decoded resource of a kustomize build.
type Object struct {
	File string // the manifest it came from (relative to the repository root)
	Obj  runtime.Object
	Kind string
	Name string // namespace/name
}

func (o Object) String() string { return o.Kind + " " + o.Name }

// Build is the output of one kustomization, decoded.
type Build struct {
	Dir     string // the kustomization's directory, relative to the repository root
	Objects []Object
	// Incomplete is set when an object did not decode: checks of references
	// between objects are then skipped rather than reported twice.
	Incomplete bool
}

// FindKustomizations lists the directories under root holding a
// kustomization file, sorted.
func FindKustomizations(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && slices.Contains(konfig.RecognizedKustomizationFileNames(), d.Name()) {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	slices.Sort(dirs)
	return slices.Compact(dirs), err
}

// BuildKustomization runs kustomize on dir in memory (as `kubectl apply -k`
// would, with kustomize's default restrictions: no plugins, no files outside
// a kustomization's root) and strictly decodes every resulting object.
// Decoding problems are returned with the objects that did decode.
func BuildKustomization(dir string, r *repo) (*Build, []Problem) {
	var ps problems
	kfile := r.rel(kustomizationFile(dir))
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(originFS{filesys.MakeFsOnDisk()}, dir)
	if err != nil {
		ps.add(kfile, "", "kustomize build: %v", err)
		return nil, ps.list
	}
	b := &Build{Dir: r.rel(dir)}
	for _, res := range resMap.Resources() {
		file := kfile
		if o, ok := res.GetAnnotations()[originAnnotation]; ok {
			var origin struct {
				Path string `json:"path"`
			}
			if yaml.Unmarshal([]byte(o), &origin) == nil && origin.Path != "" {
				file = r.rel(filepath.Join(dir, origin.Path))
			}
		}
		annotations := res.GetAnnotations()
		delete(annotations, originAnnotation)
		if err := res.SetAnnotations(annotations); err != nil {
			ps.add(file, "", "%v", err)
			continue
		}
		name := res.GetName()
		if ns := res.GetNamespace(); ns != "" {
			name = ns + "/" + name
		}
		obj := Object{File: file, Kind: res.GetKind(), Name: name}
		data, err := res.AsYAML()
		if err != nil { // YAML that kustomize could read but not write back (duplicate keys)
			ps.add(file, obj.String(), "%v", err)
			b.Incomplete = true
			continue
		}
		decoded, _, err := strictDecoder.Decode(data, nil, nil)
		switch {
		case err == nil:
		case runtime.IsStrictDecodingError(err): // decoded, with unknown or duplicate fields
			if list, ok := err.(interface{ Errors() []error }); ok {
				for _, e := range list.Errors() {
					ps.add(file, obj.String(), "%v", e)
				}
			} else {
				ps.add(file, obj.String(), "%v", err)
			}
		case runtime.IsNotRegisteredError(err):
			ps.add(file, obj.String(), "%s/%s is not a built-in kind this validator knows (%v)",
				res.GetApiVersion(), res.GetKind(), err)
			b.Incomplete = true
			continue
		default:
			ps.add(file, obj.String(), "does not decode as %s %s: %v", res.GetApiVersion(), res.GetKind(), err)
			b.Incomplete = true
			continue
		}
		obj.Obj = decoded
		b.Objects = append(b.Objects, obj)
	}
	return b, ps.list
}

// BuildYAML is the output of kustomize build dir.
func BuildYAML(dir string) ([]byte, error) {
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	return resMap.AsYaml()
}

func kustomizationFile(dir string) string {
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return filepath.Join(dir, n)
		}
	}
	return filepath.Join(dir, konfig.DefaultKustomizationFileName())
}

// originFS is the disk, except that every kustomization it reads asks for
// origin annotations (buildMetadata: [originAnnotations]), so each built
// object names the manifest it came from. The annotation is removed before
// decoding: the files on disk are not changed and do not need it.
type originFS struct {
	filesys.FileSystem
}

func (f originFS) ReadFile(path string) ([]byte, error) {
	data, err := f.FileSystem.ReadFile(path)
	if err != nil || !slices.Contains(konfig.RecognizedKustomizationFileNames(), filepath.Base(path)) {
		return data, err
	}
	var k map[string]any
	if yaml.Unmarshal(data, &k) != nil || k == nil {
		return data, nil // kustomize reports the error itself
	}
	meta, _ := k["buildMetadata"].([]any)
	if !slices.Contains(meta, any("originAnnotations")) {
		k["buildMetadata"] = append(meta, "originAnnotations")
	}
	out, err := yaml.Marshal(k)
	if err != nil {
		return data, nil
	}
	return out, nil
}

// repo turns paths into the form problems print: relative to the
// repository root when they are under it.
type repo struct {
	root string
}

func (r *repo) rel(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(r.root, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return abs
}

// ValidateK8s builds every kustomization under dir and checks each build.
func ValidateK8s(dir string, keys ConfigKeys, r *repo) []Problem {
	dirs, err := FindKustomizations(dir)
	if err != nil {
		return []Problem{{File: r.rel(dir), Message: err.Error()}}
	}
	if len(dirs) == 0 {
		return []Problem{{File: r.rel(dir), Message: "no kustomization.yaml found"}}
	}
	var all []Problem
	var builds []*Build
	// A kustomization may use a ConfigMap another one defines (the
	// migration Job uses the base's): a reference must resolve in the tree.
	known := map[string]bool{}
	for _, d := range dirs {
		b, ps := BuildKustomization(d, r)
		all = append(all, via(r.rel(d), ps)...)
		if b == nil {
			continue
		}
		builds = append(builds, b)
		for _, o := range b.Objects {
			if _, ok := o.Obj.(*corev1.ConfigMap); ok {
				known[o.Name] = true
			}
		}
	}
	for _, b := range builds {
		all = append(all, via(b.Dir, CheckBuild(b, keys, known))...)
	}
	return all
}

// via marks the problems of build dir in files of other directories.
func via(dir string, ps []Problem) []Problem {
	for i := range ps {
		if path.Dir(ps[i].File) != dir {
			ps[i].Via = dir
		}
	}
	return ps
}
