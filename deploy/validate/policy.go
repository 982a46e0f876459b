package main

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // CronJob time zones are checked without the system's zoneinfo

	"github.com/robfig/cron/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// appImage is the application's image; the Deployment running it is "the
// app" whose probes and shutdown timing are checked.
const appImage = "ghcr.io/shipmentapp/shipmentapp"

// backup is a backup CronJob the deployment architecture requires, keyed by
// the script of the backup image it runs (deploy/backup).
type backup struct {
	what         string
	schedule     string
	retentionKey string // the script's retention setting, in days
	days         string
}

var requiredBackups = map[string]backup{
	"backup-db.sh":     {"database", "0 0 * * *", "BACKUP_DB_RETENTION_DAYS", "30"},
	"backup-config.sh": {"configuration", "0 1 * * *", "BACKUP_CONFIG_RETENTION_DAYS", "90"},
	"backup-files.sh":  {"files", "0 2 * * *", "BACKUP_FILES_RETENTION_DAYS", "7"},
}

// The README's production defaults of the shutdown timing (HTTP_SHUTDOWN_DELAY
// is 0s only in development).
const (
	defaultShutdownDelay   = 5 * time.Second
	defaultShutdownTimeout = 20 * time.Second
	defaultMaxRequestBytes = 104857600
)

// workload is an object that runs pods.
type workload struct {
	Object
	labels map[string]string // the pod template's
	spec   *corev1.PodSpec
}

// grafanaDashboardLabel marks the ConfigMaps that Grafana's dashboard
// sidecar loads (deploy/grafana).
const grafanaDashboardLabel = "grafana_dashboard"

// CheckBuild applies the deployment policy to one kustomize build.
// knownConfigMaps are the namespace/name of the ConfigMaps any build of the
// tree defines.
func CheckBuild(b *Build, keys ConfigKeys, knownConfigMaps map[string]bool) []Problem {
	c := checker{b: b, keys: keys, known: knownConfigMaps, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	for _, o := range b.Objects {
		switch v := o.Obj.(type) {
		case *corev1.ConfigMap:
			c.configMaps[v.Name] = v
		case *corev1.Secret:
			c.secrets[v.Name] = v
		case *appsv1.Deployment:
			c.workloads = append(c.workloads, workload{o, v.Spec.Template.Labels, &v.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			c.workloads = append(c.workloads, workload{o, v.Spec.Template.Labels, &v.Spec.Template.Spec})
		case *appsv1.DaemonSet:
			c.workloads = append(c.workloads, workload{o, v.Spec.Template.Labels, &v.Spec.Template.Spec})
		case *batchv1.Job:
			c.workloads = append(c.workloads, workload{o, v.Spec.Template.Labels, &v.Spec.Template.Spec})
		case *batchv1.CronJob:
			c.workloads = append(c.workloads, workload{o, v.Spec.JobTemplate.Spec.Template.Labels, &v.Spec.JobTemplate.Spec.Template.Spec})
		case *corev1.Pod:
			c.workloads = append(c.workloads, workload{o, v.Labels, &v.Spec})
		}
	}
	c.filesOnly = filesOnly(c.workloads)
	for _, o := range b.Objects {
		switch v := o.Obj.(type) {
		case *corev1.ConfigMap:
			// Dashboards for Grafana's sidecar are files of Grafana's,
			// never the app's environment.
			if !c.filesOnly["ConfigMap/"+v.Name] && v.Labels[grafanaDashboardLabel] != "1" {
				c.configMapKeys(o, v)
			}
		case *corev1.Secret:
			if !c.filesOnly["Secret/"+v.Name] {
				c.secretKeys(o, v)
			}
		case *appsv1.Deployment:
			if c.isApp(&v.Spec.Template.Spec) {
				c.app(o, v)
			}
		case *batchv1.CronJob:
			c.cronJob(o, v)
		}
	}
	// References between objects, once the app is known; skipped when an
	// object did not decode (its references would be reported missing).
	for _, o := range b.Objects {
		if b.Incomplete {
			break
		}
		switch v := o.Obj.(type) {
		case *corev1.Service:
			c.service(o, v)
		case *networkingv1.Ingress:
			c.ingress(o, v)
		case *autoscalingv2.HorizontalPodAutoscaler:
			c.hpa(o, v)
		case *policyv1.PodDisruptionBudget:
			c.selects(o, v.Spec.Selector)
		}
	}
	for _, w := range c.workloads {
		c.podSpec(w)
	}
	if !b.Incomplete {
		c.backupsPresent()
	}
	return c.list
}

type checker struct {
	problems
	b          *Build
	keys       ConfigKeys
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
	workloads  []workload
	known      map[string]bool
	filesOnly  map[string]bool
	app_       *workload
}

// filesOnly are the ConfigMaps and Secrets ("ConfigMap/name") that pods only
// mount as files, never read as environment: their keys are file names, not
// configuration keys.
func filesOnly(ws []workload) map[string]bool {
	env, files := map[string]bool{}, map[string]bool{}
	for _, w := range ws {
		for _, v := range w.spec.Volumes {
			if v.ConfigMap != nil {
				files["ConfigMap/"+v.ConfigMap.Name] = true
			}
			if v.Secret != nil {
				files["Secret/"+v.Secret.SecretName] = true
			}
		}
		for _, ct := range append(append([]corev1.Container{}, w.spec.InitContainers...), w.spec.Containers...) {
			for _, ef := range ct.EnvFrom {
				if ef.ConfigMapRef != nil {
					env["ConfigMap/"+ef.ConfigMapRef.Name] = true
				}
				if ef.SecretRef != nil {
					env["Secret/"+ef.SecretRef.Name] = true
				}
			}
			for _, e := range ct.Env {
				if f := e.ValueFrom; f != nil && f.ConfigMapKeyRef != nil {
					env["ConfigMap/"+f.ConfigMapKeyRef.Name] = true
				} else if f != nil && f.SecretKeyRef != nil {
					env["Secret/"+f.SecretKeyRef.Name] = true
				}
			}
		}
	}
	for k := range env {
		delete(files, k)
	}
	return files
}

func (c *checker) isApp(spec *corev1.PodSpec) bool {
	for _, ct := range spec.Containers {
		if repository(ct.Image) == appImage {
			return true
		}
	}
	return false
}

// repository is an image reference without its tag or digest.
func repository(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

func (c *checker) configMapKeys(o Object, cm *corev1.ConfigMap) {
	for k := range cm.Data {
		c.envKey(o, k)
	}
	for k := range cm.BinaryData {
		c.envKey(o, k)
	}
}

func (c *checker) secretKeys(o Object, s *corev1.Secret) {
	if s.Type != "" && s.Type != corev1.SecretTypeOpaque {
		return // TLS, docker config...: not environment
	}
	for k := range s.Data {
		c.envKey(o, k)
	}
	for k := range s.StringData {
		c.envKey(o, k)
	}
}

func (c *checker) envKey(o Object, key string) {
	if !c.keys.documented(key) {
		c.add(o.File, o.String(), "key %s is not a documented configuration key (README.md's Configuration table) nor a backup setting (BACKUP_*)", key)
	}
}

// podSpec checks what every container of every workload must have.
func (c *checker) podSpec(w workload) {
	pod := w.spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	for _, ct := range append(append([]corev1.Container{}, w.spec.InitContainers...), w.spec.Containers...) {
		in := fmt.Sprintf("container %s", ct.Name)
		c.resources(w.Object, in, ct.Resources)
		c.image(w.Object, in, ct.Image)
		sc := ct.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		if !first(sc.RunAsNonRoot, pod.RunAsNonRoot) {
			c.add(w.File, w.String(), "%s: securityContext.runAsNonRoot is not true (in the container or the pod)", in)
		}
		if uid := sc.RunAsUser; uid != nil && *uid == 0 || uid == nil && pod.RunAsUser != nil && *pod.RunAsUser == 0 {
			c.add(w.File, w.String(), "%s: runs as uid 0", in)
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			c.add(w.File, w.String(), "%s: securityContext.readOnlyRootFilesystem is not true", in)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			c.add(w.File, w.String(), "%s: securityContext.allowPrivilegeEscalation is not false", in)
		}
		if sc.Privileged != nil && *sc.Privileged {
			c.add(w.File, w.String(), "%s: is privileged", in)
		}
		if sc.Capabilities == nil || !containsCap(sc.Capabilities.Drop, "ALL") {
			c.add(w.File, w.String(), "%s: securityContext.capabilities.drop does not include ALL", in)
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = pod.SeccompProfile
		}
		if seccomp == nil || seccomp.Type == corev1.SeccompProfileTypeUnconfined {
			c.add(w.File, w.String(), "%s: no seccompProfile RuntimeDefault (or Localhost) in the container or the pod", in)
		}
		for _, e := range ct.Env {
			if !c.keys.documented(e.Name) && !runtimeEnv[e.Name] {
				c.add(w.File, w.String(), "%s: env %s is not a documented configuration key (README.md's Configuration table), a backup setting (BACKUP_*) nor a Go runtime variable", in, e.Name)
			}
		}
		for _, ef := range ct.EnvFrom {
			if ref := ef.ConfigMapRef; ref != nil && (ref.Optional == nil || !*ref.Optional) && !c.known[namespaceOf(w.Name)+ref.Name] {
				c.add(w.File, w.String(), "%s: envFrom names ConfigMap %s, which no kustomization defines", in, ref.Name)
			}
		}
	}
}

// namespaceOf is the "namespace/" of a "namespace/name", or "".
func namespaceOf(name string) string {
	if i := strings.Index(name, "/"); i >= 0 {
		return name[:i+1]
	}
	return ""
}

func first(vs ...*bool) bool {
	for _, v := range vs {
		if v != nil {
			return *v
		}
	}
	return false
}

func containsCap(caps []corev1.Capability, want corev1.Capability) bool {
	for _, c := range caps {
		if strings.EqualFold(string(c), string(want)) {
			return true
		}
	}
	return false
}

// resources requires CPU and memory requests (for scheduling and the HPA)
// and a memory limit (a leak is killed, not the node). A CPU limit is not
// required: it only throttles.
func (c *checker) resources(o Object, in string, r corev1.ResourceRequirements) {
	var missing []string
	if q, ok := r.Requests[corev1.ResourceCPU]; !ok || q.IsZero() {
		missing = append(missing, "requests.cpu")
	}
	if q, ok := r.Requests[corev1.ResourceMemory]; !ok || q.IsZero() {
		missing = append(missing, "requests.memory")
	}
	if q, ok := r.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
		missing = append(missing, "limits.memory")
	}
	if len(missing) > 0 {
		c.add(o.File, o.String(), "%s: resources without %s", in, strings.Join(missing, ", "))
	}
	for name, req := range r.Requests {
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
			c.add(o.File, o.String(), "%s: resources.requests.%s (%s) exceeds its limit (%s)", in, name, req.String(), lim.String())
		}
	}
}

func (c *checker) image(o Object, in, image string) {
	if strings.Contains(image, "@") {
		return
	}
	repo := repository(image)
	tag := strings.TrimPrefix(image[len(repo):], ":")
	switch tag {
	case "":
		c.add(o.File, o.String(), "%s: image %s has no tag (set one with the kustomization's images:)", in, image)
	case "latest":
		c.add(o.File, o.String(), "%s: image %s: a release names its tag, not latest", in, image)
	}
}

// env is what a container sees: its envFrom ConfigMaps and Secrets of this
// build (later sources win), then its env.
func (c *checker) env(ct *corev1.Container) map[string]string {
	m := map[string]string{}
	for _, ef := range ct.EnvFrom {
		if ef.ConfigMapRef != nil {
			if cm := c.configMaps[ef.ConfigMapRef.Name]; cm != nil {
				for k, v := range cm.Data {
					m[ef.Prefix+k] = v
				}
			}
		}
		if ef.SecretRef != nil {
			if s := c.secrets[ef.SecretRef.Name]; s != nil {
				for k, v := range s.Data {
					m[ef.Prefix+k] = string(v)
				}
				for k, v := range s.StringData {
					m[ef.Prefix+k] = v
				}
			}
		}
	}
	for _, e := range ct.Env {
		if e.ValueFrom == nil {
			m[e.Name] = e.Value
		}
	}
	return m
}

func (c *checker) app(o Object, d *appsv1.Deployment) {
	spec := &d.Spec.Template.Spec
	c.app_ = &workload{o, d.Spec.Template.Labels, spec}
	if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil {
		c.add(o.File, o.String(), "spec.selector: %v", err)
	} else if !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		c.add(o.File, o.String(), "spec.selector does not match the pod template's labels")
	}
	for i := range spec.Containers {
		ct := &spec.Containers[i]
		if repository(ct.Image) != appImage {
			continue
		}
		in := fmt.Sprintf("container %s", ct.Name)
		c.probe(o, in, ct, "livenessProbe", ct.LivenessProbe, "/livez")
		c.probe(o, in, ct, "readinessProbe", ct.ReadinessProbe, "/readyz")
		if ct.StartupProbe == nil {
			c.add(o.File, o.String(), "%s: no startupProbe", in)
		} else {
			c.probe(o, in, ct, "startupProbe", ct.StartupProbe, "/livez")
		}
		env := c.env(ct)
		if p := containerPort(ct, "http"); p == nil {
			c.add(o.File, o.String(), "%s: no container port named http", in)
		} else if addr, ok := env["APP_ADDR"]; !ok {
			c.add(o.File, o.String(), "%s: APP_ADDR is not set: the app would listen on 127.0.0.1:8080, out of the probes' reach", in)
		} else if _, port, _ := strings.Cut(addr, ":"); port != strconv.Itoa(int(p.ContainerPort)) {
			c.add(o.File, o.String(), "%s: APP_ADDR %s does not listen on the http port %d", in, addr, p.ContainerPort)
		}
		delay, timeout := defaultShutdownDelay, defaultShutdownTimeout
		if env["APP_ENV"] == "development" {
			delay = 0
		}
		for key, v := range map[string]*time.Duration{"HTTP_SHUTDOWN_DELAY": &delay, "HTTP_SHUTDOWN_TIMEOUT": &timeout} {
			if s, ok := env[key]; ok {
				d, err := time.ParseDuration(s)
				if err != nil {
					c.add(o.File, o.String(), "%s: %s=%q is not a Go duration", in, key, s)
				}
				*v = d
			}
		}
		grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
		if spec.TerminationGracePeriodSeconds != nil {
			grace = *spec.TerminationGracePeriodSeconds
		}
		if time.Duration(grace)*time.Second <= delay+timeout {
			c.add(o.File, o.String(), "terminationGracePeriodSeconds (%d) must exceed HTTP_SHUTDOWN_DELAY + HTTP_SHUTDOWN_TIMEOUT (%s + %s), or the kubelet kills requests still draining", grace, delay, timeout)
		}
	}
}

func containerPort(ct *corev1.Container, name string) *corev1.ContainerPort {
	for i := range ct.Ports {
		if ct.Ports[i].Name == name {
			return &ct.Ports[i]
		}
	}
	return nil
}

func (c *checker) probe(o Object, in string, ct *corev1.Container, field string, p *corev1.Probe, want string) {
	if p == nil {
		c.add(o.File, o.String(), "%s: no %s (want GET %s)", in, field, want)
		return
	}
	if p.HTTPGet == nil {
		c.add(o.File, o.String(), "%s: %s is not an httpGet (want GET %s)", in, field, want)
		return
	}
	if p.HTTPGet.Path != want {
		c.add(o.File, o.String(), "%s: %s.httpGet.path is %q, want %q", in, field, p.HTTPGet.Path, want)
	}
	if !portDeclared(ct, p.HTTPGet.Port) {
		c.add(o.File, o.String(), "%s: %s.httpGet.port %s is not a port of the container", in, field, p.HTTPGet.Port.String())
	}
}

func portDeclared(ct *corev1.Container, port intstr.IntOrString) bool {
	for _, p := range ct.Ports {
		if port.Type == intstr.String && p.Name == port.StrVal || port.Type == intstr.Int && p.ContainerPort == port.IntVal {
			return true
		}
	}
	return false
}

func (c *checker) cronJob(o Object, cj *batchv1.CronJob) {
	if _, err := cron.ParseStandard(cj.Spec.Schedule); err != nil {
		c.add(o.File, o.String(), "schedule %q does not parse: %v", cj.Spec.Schedule, err)
	}
	if cj.Spec.TimeZone == nil {
		c.add(o.File, o.String(), "no timeZone: the schedule would follow the controller manager's zone (set Etc/UTC)")
	} else if _, err := time.LoadLocation(*cj.Spec.TimeZone); err != nil {
		c.add(o.File, o.String(), "timeZone %q: %v", *cj.Spec.TimeZone, err)
	}
	for _, ct := range cj.Spec.JobTemplate.Spec.Template.Spec.Containers {
		script, b, ok := backupScript(ct)
		if !ok {
			continue
		}
		if cj.Spec.Schedule != b.schedule {
			c.add(o.File, o.String(), "the %s backup (%s) must run at %q, not %q", b.what, script, b.schedule, cj.Spec.Schedule)
		}
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			c.add(o.File, o.String(), "concurrencyPolicy is %q, want Forbid: two runs of a backup must not overlap", cj.Spec.ConcurrencyPolicy)
		}
		if days, ok := c.env(&ct)[b.retentionKey]; ok && days != b.days {
			c.add(o.File, o.String(), "%s is %s, the %s backup is kept %s days", b.retentionKey, days, b.what, b.days)
		}
	}
}

// backupScript finds which backup script a container runs.
func backupScript(ct corev1.Container) (string, backup, bool) {
	for _, arg := range append(append([]string{}, ct.Command...), ct.Args...) {
		if b, ok := requiredBackups[path.Base(arg)]; ok {
			return path.Base(arg), b, true
		}
	}
	return "", backup{}, false
}

// backupsPresent requires, in a build that runs the app, a CronJob for each
// backup.
func (c *checker) backupsPresent() {
	if c.app_ == nil {
		return
	}
	found := map[string]bool{}
	for _, w := range c.workloads {
		if _, ok := w.Obj.(*batchv1.CronJob); !ok {
			continue
		}
		for _, ct := range w.spec.Containers {
			if s, _, ok := backupScript(ct); ok {
				found[s] = true
			}
		}
	}
	for s, b := range requiredBackups {
		if !found[s] {
			c.add(c.b.Dir+"/kustomization.yaml", "", "no CronJob runs the %s backup (%s, %q)", b.what, s, b.schedule)
		}
	}
}

func (c *checker) service(o Object, s *corev1.Service) {
	if len(s.Spec.Selector) == 0 {
		return
	}
	sel := labels.SelectorFromSet(s.Spec.Selector)
	for _, w := range c.workloads {
		if !sel.Matches(labels.Set(w.labels)) {
			continue
		}
		for _, p := range s.Spec.Ports {
			found := false
			for _, ct := range w.spec.Containers {
				if portDeclared(&ct, p.TargetPort) || p.TargetPort.Type == intstr.Int && p.TargetPort.IntVal == 0 && portDeclared(&ct, intstr.FromInt32(p.Port)) {
					found = true
				}
			}
			if !found {
				c.add(o.File, o.String(), "port %s: targetPort %s is not a container port of %s", p.Name, p.TargetPort.String(), w)
			}
		}
		return
	}
	c.add(o.File, o.String(), "its selector %s matches the pods of no workload in this build", sel)
}

func (c *checker) selects(o Object, ls *metav1.LabelSelector) {
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		c.add(o.File, o.String(), "selector: %v", err)
		return
	}
	for _, w := range c.workloads {
		if sel.Matches(labels.Set(w.labels)) {
			return
		}
	}
	c.add(o.File, o.String(), "its selector %s matches the pods of no workload in this build", sel)
}

func (c *checker) hpa(o Object, h *autoscalingv2.HorizontalPodAutoscaler) {
	ref := h.Spec.ScaleTargetRef
	for _, w := range c.workloads {
		if w.Kind == ref.Kind && (w.Name == ref.Name || strings.HasSuffix(w.Name, "/"+ref.Name)) {
			return
		}
	}
	c.add(o.File, o.String(), "scaleTargetRef %s %s is not in this build", ref.Kind, ref.Name)
}

// ingress checks that ingress-nginx lets the largest upload through.
func (c *checker) ingress(o Object, ing *networkingv1.Ingress) {
	size, ok := ing.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"]
	if !ok || c.app_ == nil {
		return
	}
	limit, err := nginxSize(size)
	if err != nil {
		c.add(o.File, o.String(), "proxy-body-size %q: %v", size, err)
		return
	}
	want := int64(defaultMaxRequestBytes)
	for i := range c.app_.spec.Containers {
		if s, ok := c.env(&c.app_.spec.Containers[i])["FILE_MAX_REQUEST_BYTES"]; ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				want = n
			}
		}
	}
	if limit != 0 && limit < want {
		c.add(o.File, o.String(), "proxy-body-size %s (%d bytes) is below FILE_MAX_REQUEST_BYTES (%d): large uploads would get nginx's 413", size, limit, want)
	}
}

// nginxSize parses an nginx size (bytes, or k/m/g for KiB, MiB, GiB).
func nginxSize(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToLower(s[len(s)-min(1, len(s)):]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	}
	num := s
	if mult != 1 {
		num = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not an nginx size (a number, with k, m or g)")
	}
	return n * mult, nil
}
