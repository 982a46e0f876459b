// Package config loads shipmentapp's configuration: built-in defaults (which
// depend on APP_ENV), then an optional YAML file, then environment variables,
// and validates the result in one pass that reports every problem at once.
//
// The environment variable names are those of the deployment architecture and
// are the contract with operators. In a YAML file the same keys are written in
// lower case (db_host: ...).
package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/shipmentapp/shipmentapp/internal/secretbox"
)

// Environments.
const (
	EnvDevelopment = "development"
	EnvStaging     = "staging"
	EnvProduction  = "production"
)

// Database drivers, as DB_CONNECTION names them.
const (
	DriverMySQL    = "mysql"
	DriverPostgres = "pgsql"
	DriverSQLite   = "sqlite"
)

// Config is the validated configuration of one process.
type Config struct {
	Env   string `koanf:"app_env"`
	Debug bool   `koanf:"app_debug"`
	// URL is the public base URL of the API (APP_URL): download links and
	// the websocket origin allowed besides the request's own are built from
	// it. Required outside development; unset in development, serve sets it
	// to the address it listens on (ResolveURL).
	URL     string `koanf:"app_url"`
	Addr    string `koanf:"app_addr"`
	DataDir string `koanf:"app_data_dir"`

	LogLevel string `koanf:"log_level"`

	DB       Database      `koanf:",squash"`
	Dolibarr Dolibarr      `koanf:",squash"`
	HTTP     HTTP          `koanf:",squash"`
	Redis    Redis         `koanf:",squash"`
	OIDC     OIDC          `koanf:",squash"`
	APQ      APQ           `koanf:",squash"`
	Limits   Limits        `koanf:",squash"`
	GraphQL  GraphQL       `koanf:",squash"`
	Files    Files         `koanf:",squash"`
	AWS      AWS           `koanf:",squash"`
	Subs     Subscriptions `koanf:",squash"`
	Webhooks Webhooks      `koanf:",squash"`
	Health   Health        `koanf:",squash"`
	Tracing  Tracing       `koanf:",squash"`

	// DemoSeed seeds demo shipments into an empty database on start.
	DemoSeed bool `koanf:"demo_seed"`
}

// Database is the main (read-write) database.
type Database struct {
	Connection      string        `koanf:"db_connection"`
	Host            string        `koanf:"db_host"`
	Port            int           `koanf:"db_port"`
	Database        string        `koanf:"db_database"`
	Username        string        `koanf:"db_username"`
	Password        string        `koanf:"db_password"`
	SSLMode         string        `koanf:"db_sslmode"`
	MaxOpenConns    int           `koanf:"db_max_open_conns"`
	MaxIdleConns    int           `koanf:"db_max_idle_conns"`
	ConnMaxLifetime time.Duration `koanf:"db_conn_max_lifetime"`
	// AutoMigrate applies pending migrations on serve. It may only be on in development.
	AutoMigrate bool `koanf:"db_auto_migrate"`

	// ReadHosts are the read replicas, "host" or "host:port", comma-separated.
	ReadHosts string `koanf:"db_read_host"`
	// ReadPort is the port of replicas given without one (default DB_PORT).
	ReadPort int `koanf:"db_read_port"`
	// ReadUsername and ReadPassword default to DB_USERNAME and DB_PASSWORD.
	ReadUsername string `koanf:"db_read_username"`
	ReadPassword string `koanf:"db_read_password"`
	// ReplicaMaxLag takes a replica out of the read path when it lags more.
	ReplicaMaxLag time.Duration `koanf:"db_replica_max_lag"`
	// ReplicaCheckInterval is how often replica lag is measured.
	ReplicaCheckInterval time.Duration `koanf:"db_replica_check_interval"`
	// ReadYourWrites is how long a viewer reads from the primary after writing.
	ReadYourWrites time.Duration `koanf:"db_read_your_writes"`
}

// Replica is one read replica's address.
type Replica struct {
	Host string
	Port int
}

// Replicas parses DB_READ_HOST.
func (d Database) Replicas() ([]Replica, error) {
	var out []Replica
	for _, item := range strings.Split(d.ReadHosts, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		host, port := item, d.ReadPort
		if h, p, err := net.SplitHostPort(item); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("replica %q: bad port", item)
			}
			host, port = h, n
		}
		if host == "" {
			return nil, fmt.Errorf("replica %q: no host", item)
		}
		out = append(out, Replica{Host: host, Port: port})
	}
	return out, nil
}

// Dolibarr is the read-only Dolibarr ERP database.
type Dolibarr struct {
	Connection string `koanf:"dolibarr_db_connection"`
	Host       string `koanf:"dolibarr_db_host"`
	Port       int    `koanf:"dolibarr_db_port"`
	Database   string `koanf:"dolibarr_db_database"`
	Username   string `koanf:"dolibarr_db_username"`
	Password   string `koanf:"dolibarr_db_password"`
	Entity     int    `koanf:"dolibarr_entity"`
	// Prefix is the Dolibarr install's table prefix.
	Prefix string `koanf:"dolibarr_db_prefix"`
	// Timeout bounds connecting to Dolibarr and each read or write on the wire.
	Timeout time.Duration `koanf:"dolibarr_db_timeout"`
	// MaxOpenConns sizes Dolibarr's own pool.
	MaxOpenConns int `koanf:"dolibarr_db_max_open_conns"`
	// DemoSeed creates and seeds a demo Dolibarr SQLite database when none exists.
	DemoSeed bool `koanf:"dolibarr_demo_seed"`
}

// APQ configures persisted queries.
type APQ struct {
	// Mode is apq, allowlist or off.
	Mode string `koanf:"persisted_queries"`
	// AdminBypass lets admin keys run any document in allowlist mode.
	AdminBypass bool `koanf:"persisted_queries_admin_bypass"`
	// CacheDriver is memory, redis or memcached.
	CacheDriver    string        `koanf:"cache_driver"`
	MemcachedAddrs string        `koanf:"memcached_addrs"`
	TTL            time.Duration `koanf:"apq_ttl"`
	Size           int           `koanf:"apq_cache_size"`
}

// OIDC configures user tokens (JWTs) from the company's OIDC provider.
type OIDC struct {
	JWKSURL        string `koanf:"oidc_jwks_url"`
	Issuer         string `koanf:"oidc_issuer"`
	Audience       string `koanf:"oidc_audience"`
	RolesClaim     string `koanf:"oidc_roles_claim"`
	CustomersClaim string `koanf:"oidc_customers_claim"`
}

// Redis is the shared Redis (standalone, Sentinel or Cluster).
type Redis struct {
	Host string `koanf:"redis_host"`
	Port int    `koanf:"redis_port"`
	// Addrs lists host:port addresses (a Cluster, or Sentinels with MasterName).
	Addrs      string        `koanf:"redis_addrs"`
	MasterName string        `koanf:"redis_master_name"`
	Password   string        `koanf:"redis_password"`
	DB         int           `koanf:"redis_db"`
	Prefix     string        `koanf:"redis_prefix"`
	Timeout    time.Duration `koanf:"redis_timeout"`
}

// Addresses returns the Redis addresses to use, none when Redis is not configured.
func (r Redis) Addresses() []string {
	var out []string
	for _, a := range strings.Split(r.Addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	if len(out) == 0 && r.Host != "" {
		out = append(out, net.JoinHostPort(r.Host, strconv.Itoa(r.Port)))
	}
	return out
}

// Limits are the request rate limits.
type Limits struct {
	IPPerMinute  int `koanf:"rate_limit_ip_per_minute"`
	KeyPerMinute int `koanf:"rate_limit_key_per_minute"`
	// TrustedProxies are the CIDRs of load balancers whose X-Forwarded-For is believed.
	TrustedProxies string `koanf:"http_trusted_proxies"`
	// CORSOrigins are the browser origins allowed to call the API.
	CORSOrigins string `koanf:"http_cors_origins"`
}

// Origins parses HTTP_CORS_ORIGINS.
func (l Limits) Origins() ([]string, error) {
	var out []string
	for _, o := range strings.Split(l.CORSOrigins, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, ok := httpURL(o)
		if !ok || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, fmt.Errorf("%q is not an origin such as https://app.example.com", o)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}

// TrustedNets parses HTTP_TRUSTED_PROXIES.
func (l Limits) TrustedNets() ([]*net.IPNet, error) { return parseNets(l.TrustedProxies) }

// parseNets parses a comma-separated list of CIDRs or addresses (an address
// is its own /32 or /128).
func parseNets(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, c := range strings.Split(list, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !strings.Contains(c, "/") {
			if strings.Contains(c, ":") {
				c += "/128"
			} else {
				c += "/32"
			}
		}
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR or an address", c)
		}
		out = append(out, n)
	}
	return out, nil
}

// HTTP holds the HTTP server's limits.
type HTTP struct {
	ReadHeaderTimeout time.Duration `koanf:"http_read_header_timeout"`
	ReadTimeout       time.Duration `koanf:"http_read_timeout"`
	WriteTimeout      time.Duration `koanf:"http_write_timeout"`
	IdleTimeout       time.Duration `koanf:"http_idle_timeout"`
	ShutdownTimeout   time.Duration `koanf:"http_shutdown_timeout"`
	// ShutdownDelay is how long /readyz fails before the server stops
	// accepting, so the load balancer stops sending first.
	ShutdownDelay  time.Duration `koanf:"http_shutdown_delay"`
	RequestTimeout time.Duration `koanf:"http_request_timeout"`
	MaxBodyBytes   int64         `koanf:"http_max_body_bytes"`
	// Compression is HTTP_COMPRESSION, on or off: gzip or zstd answers
	// (internal/httpedge's Compression) for clients that accept them.
	Compression string `koanf:"http_compression"`
	// CompressMinBytes is HTTP_COMPRESS_MIN_BYTES: smaller answers are not
	// compressed.
	CompressMinBytes int `koanf:"http_compress_min_bytes"`
}

// Compressed reports whether HTTP_COMPRESSION is on.
func (h HTTP) Compressed() bool { return h.Compression == "on" }

// GraphQL holds the GraphQL endpoint's switches.
type GraphQL struct {
	Playground    bool `koanf:"graphql_playground"`
	Introspection bool `koanf:"graphql_introspection"`
	QueryCache    int  `koanf:"graphql_query_cache_size"`
	// Limits on the shape and cost of an operation (0: no limit).
	MaxDepth      int `koanf:"graphql_max_depth"`
	MaxAliases    int `koanf:"graphql_max_aliases"`
	MaxRootFields int `koanf:"graphql_max_root_fields"`
	MaxComplexity int `koanf:"graphql_max_complexity"`
	MaxTokens     int `koanf:"graphql_max_tokens"`
	// HTTPLegacy answers application/json clients as gqlgen v0.17 did
	// (internal/gqlhttp): for clients that cannot follow the GraphQL over
	// HTTP draft.
	HTTPLegacy bool `koanf:"graphql_http_legacy"`
	// Planned runs the documents graph/plan covers on their plan instead of
	// gqlgen's generic executor (same answers, less CPU).
	Planned bool `koanf:"graphql_planned"`

	// PlaygroundDevAuth is when the development playground opens signed
	// in as the development admin (internal/playground's DevSessions):
	// "auto" (development, APP_ADDR on loopback, the request from this
	// machine), "on" (development, any request) or "off".
	PlaygroundDevAuth string `koanf:"playground_dev_auth"`
}

// Files configures file uploads, downloads and their storage.
type Files struct {
	// Disk is local (under APP_DATA_DIR/files) or s3 (the AWS_* keys).
	Disk string `koanf:"filesystem_disk"`
	// MaxBytes bounds one uploaded file.
	MaxBytes int64 `koanf:"file_max_bytes"`
	// MaxRequestBytes bounds a whole multipart upload request.
	MaxRequestBytes int64 `koanf:"file_max_request_bytes"`
	// MaxFiles bounds the files of one request.
	MaxFiles int `koanf:"file_max_files"`
	// MaxConcurrentUploads bounds the upload requests in progress per instance.
	MaxConcurrentUploads int `koanf:"file_max_concurrent_uploads"`
	// KeyPrefix is the prefix of the objects this deployment writes (and sweeps).
	KeyPrefix string `koanf:"file_key_prefix"`
	// UploadTimeout bounds an upload request (instead of HTTP_REQUEST_TIMEOUT).
	UploadTimeout time.Duration `koanf:"file_upload_timeout"`
	// SigningKey signs the download links of local storage (32 bytes or more).
	SigningKey string `koanf:"file_signing_key"`
	// SweepInterval is how often serve removes objects without a row (0: never).
	SweepInterval time.Duration `koanf:"file_sweep_interval"`
	// SweepGrace spares objects younger than this (uploads in flight).
	SweepGrace time.Duration `koanf:"file_sweep_grace"`
}

// Tracing configures OpenTelemetry tracing (off by default). The OTLP
// exporter reads its endpoint, headers and timeout from the standard
// OTEL_EXPORTER_OTLP_* variables.
type Tracing struct {
	Exporter    string  `koanf:"tracing_exporter"`
	SampleRatio float64 `koanf:"tracing_sample_ratio"`
	// SentryDSN, when set, reports internal errors and panics to Sentry.
	SentryDSN         string `koanf:"sentry_dsn"`
	SentryEnvironment string `koanf:"sentry_environment"`
}

// Health configures the background checks behind /readyz: per kind of
// dependency, how often, how long each check may take, and how many failures
// in a row mark it down.
type Health struct {
	DBInterval      time.Duration `koanf:"health_db_interval"`
	DBTimeout       time.Duration `koanf:"health_db_timeout"`
	DBRetries       int           `koanf:"health_db_retries"`
	CacheInterval   time.Duration `koanf:"health_cache_interval"`
	CacheTimeout    time.Duration `koanf:"health_cache_timeout"`
	CacheRetries    int           `koanf:"health_cache_retries"`
	StorageInterval time.Duration `koanf:"health_storage_interval"`
	StorageTimeout  time.Duration `koanf:"health_storage_timeout"`
	StorageRetries  int           `koanf:"health_storage_retries"`
}

// Subscriptions configures GraphQL subscriptions (websocket and SSE).
type Subscriptions struct {
	// InitTimeout is how long a websocket may take to send connection_init.
	InitTimeout time.Duration `koanf:"subscription_init_timeout"`
	// KeepAlive is the interval of the server's pings (and SSE comments); a
	// peer that answers nothing for two intervals is disconnected.
	KeepAlive time.Duration `koanf:"subscription_keepalive"`
	// MaxPerConnection bounds the operations running on one connection.
	MaxPerConnection int `koanf:"subscription_max_per_connection"`
	// MaxConnectionsPerKey bounds one credential's connections per instance.
	MaxConnectionsPerKey int `koanf:"subscription_max_connections_per_key"`
	// Buffer is how many messages a subscription may have waiting for a slow
	// client before the connection is closed (the client resumes with after:).
	Buffer int `koanf:"subscription_buffer"`
	// WriteTimeout bounds one write to a subscriber.
	WriteTimeout time.Duration `koanf:"subscription_write_timeout"`
	// AuthRecheck is how often a connection's credentials are verified again
	// (revocations also arrive at once through the bus).
	AuthRecheck time.Duration `koanf:"subscription_auth_recheck"`
	// PollInterval is how often each instance reads new tracking events even
	// without a notification (a lost Redis message is late, never lost).
	PollInterval time.Duration `koanf:"subscription_poll_interval"`
	// Origins are the browser origins allowed to open a websocket, besides
	// HTTP_CORS_ORIGINS and APP_URL's origin.
	Origins string `koanf:"subscription_allowed_origins"`
}

// AllowedOrigins parses SUBSCRIPTION_ALLOWED_ORIGINS.
func (s Subscriptions) AllowedOrigins() ([]string, error) {
	return Limits{CORSOrigins: s.Origins}.Origins()
}

// AWS configures the S3 bucket of FILESYSTEM_DISK=s3.
type AWS struct {
	AccessKeyID     string `koanf:"aws_access_key_id"`
	SecretAccessKey string `koanf:"aws_secret_access_key"`
	Region          string `koanf:"aws_default_region"`
	Bucket          string `koanf:"aws_bucket"`
	// Endpoint is the URL of an S3-compatible store (empty: AWS).
	Endpoint string `koanf:"aws_endpoint"`
	// PathStyle puts the bucket in the path, as most S3-compatible stores need.
	PathStyle bool `koanf:"aws_use_path_style_endpoint"`
	// URL is the endpoint presigned download links name, when clients reach
	// the store by another address than the app does.
	URL string `koanf:"aws_url"`
}

// ResolveURL sets URL, when APP_URL was not given, to the address the server
// actually listens on, bound (the listener's address): its port (the one the
// system chose for port 0), and its host, except that a wildcard host
// (":8080", "0.0.0.0", "::") is 127.0.0.1, which a wildcard listener also
// answers on, and a host name given in APP_ADDR ("localhost:0") is kept. It
// reports whether it set URL; an explicit APP_URL is never changed.
func (c *Config) ResolveURL(bound net.Addr) bool {
	if c.URL != "" {
		return false
	}
	c.URL = ListenURL(c.Addr, bound)
	return true
}

// ListenURL is the http URL reaching a server that was told to listen on
// addr (APP_ADDR) and is bound on bound (nil: addr as given).
func ListenURL(addr string, bound net.Addr) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host = ""
	}
	if bound != nil {
		if bh, bp, err := net.SplitHostPort(bound.String()); err == nil {
			port = bp
			if ip := net.ParseIP(host); host == "" || ip != nil {
				host = bh // an address, not a name: the one bound
			}
		}
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// IsDevelopment reports whether the process runs in development mode.
func (c *Config) IsDevelopment() bool { return c.Env == EnvDevelopment }

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)

var keyPrefixPattern = regexp.MustCompile(`^([a-z0-9._-]+/){1,8}$`)

// SweepMargin is how much FILE_SWEEP_GRACE must exceed FILE_UPLOAD_TIMEOUT.
const SweepMargin = 5 * time.Minute

// CheckSweepGrace refuses a sweep grace (FILE_SWEEP_GRACE, or files sweep
// --grace) shorter than uploadTimeout + SweepMargin: the sweeper could then
// delete an upload still in flight.
func CheckSweepGrace(grace, uploadTimeout time.Duration) error {
	if grace < uploadTimeout+SweepMargin {
		return fmt.Errorf("must be at least FILE_UPLOAD_TIMEOUT (%s) + %s, or the sweeper could delete an upload in flight (object stores' clocks differ from ours); got %s", uploadTimeout, SweepMargin, grace)
	}
	return nil
}

// Keys returns every configuration key (as an environment variable name) in a
// stable order, for documentation and for the environment filter.
func Keys() []string {
	var keys []string
	collectKeys(reflect.TypeOf(Config{}), &keys)
	return keys
}

// defaults returns the built-in defaults for the environment appEnv.
func defaults(appEnv string) map[string]any {
	dev := appEnv == EnvDevelopment
	shutdownDelay := "5s" // behind a load balancer
	if dev {
		shutdownDelay = "0s"
	}
	logLevel := "info"
	if dev {
		logLevel = "debug"
	}
	return map[string]any{
		"app_env":                     appEnv,
		"app_debug":                   dev,
		"app_addr":                    "127.0.0.1:8080",
		"app_data_dir":                "./data",
		"log_level":                   logLevel,
		"db_connection":               DriverSQLite,
		"db_sslmode":                  "prefer",
		"db_max_open_conns":           20,
		"db_max_idle_conns":           20,
		"db_conn_max_lifetime":        "30m",
		"db_auto_migrate":             dev,
		"db_replica_max_lag":          "5s",
		"db_replica_check_interval":   "1s",
		"db_read_your_writes":         "2s",
		"dolibarr_db_connection":      DriverSQLite,
		"dolibarr_entity":             1,
		"dolibarr_db_prefix":          "llx_",
		"dolibarr_db_timeout":         "3s",
		"dolibarr_db_max_open_conns":  10,
		"dolibarr_demo_seed":          dev,
		"http_read_header_timeout":    "5s",
		"http_read_timeout":           "30s",
		"http_write_timeout":          "60s",
		"http_idle_timeout":           "120s",
		"http_shutdown_timeout":       "20s",
		"http_shutdown_delay":         shutdownDelay,
		"http_request_timeout":        "30s",
		"http_max_body_bytes":         1 << 20,
		"http_compression":            "on",
		"http_compress_min_bytes":     1024,
		"graphql_playground":          dev,
		"playground_dev_auth":         "auto",
		"graphql_introspection":       dev,
		"graphql_query_cache_size":    1000,
		"graphql_max_depth":           15,
		"graphql_max_aliases":         30,
		"graphql_max_root_fields":     20,
		"graphql_max_complexity":      5000,
		"graphql_max_tokens":          10000,
		"graphql_http_legacy":         false,
		"graphql_planned":             true,
		"redis_port":                  6379,
		"persisted_queries":           "apq",
		"cache_driver":                "memory",
		"memcached_addrs":             "127.0.0.1:11211",
		"apq_ttl":                     "24h",
		"apq_cache_size":              1000,
		"oidc_roles_claim":            "roles",
		"oidc_customers_claim":        "customers",
		"redis_prefix":                "shipmentapp:",
		"redis_timeout":               "100ms",
		"rate_limit_ip_per_minute":    600,
		"rate_limit_key_per_minute":   1200,
		"demo_seed":                   dev,
		"filesystem_disk":             "local",
		"file_max_bytes":              25 << 20,
		"file_max_request_bytes":      100 << 20,
		"file_max_files":              10,
		"file_max_concurrent_uploads": 16,
		"file_key_prefix":             "files/",
		"file_upload_timeout":         "10m",
		"file_sweep_interval":         "1h",
		"file_sweep_grace":            "1h",
		"aws_default_region":          "us-east-1",

		"tracing_exporter":     "off",
		"tracing_sample_ratio": 1.0,

		"health_db_interval":      "30s",
		"health_db_timeout":       "10s",
		"health_db_retries":       3,
		"health_cache_interval":   "30s",
		"health_cache_timeout":    "5s",
		"health_cache_retries":    3,
		"health_storage_interval": "60s",
		"health_storage_timeout":  "15s",
		"health_storage_retries":  3,

		"subscription_init_timeout":            "10s",
		"subscription_keepalive":               "15s",
		"subscription_max_per_connection":      100,
		"subscription_max_connections_per_key": 200,
		"subscription_buffer":                  256,
		"subscription_write_timeout":           "10s",
		"subscription_auth_recheck":            "1m",
		"subscription_poll_interval":           "5s",
		"webhook_workers":                      4,
		"webhook_timeout":                      "15s",
		"webhook_connect_timeout":              "5s",
		"webhook_retry_schedule":               "0s,5s,5m,30m,2h,5h,10h,10h",
		"webhook_disable_after":                "120h",
		"webhook_max_endpoints":                10,
		"webhook_lease":                        "1m",
		"webhook_retention":                    "720h",
	}
}

// Webhooks configure the deliveries to partners' endpoints (internal/webhook).
type Webhooks struct {
	// SecretKeys seal the endpoints' signing secrets: comma-separated
	// 32-byte keys (64 hex characters or base64), the first sealing, all
	// opening. Required outside development for webhooks to work.
	SecretKeys string `koanf:"webhook_secret_keys"`
	// Workers is the number of endpoints one instance delivers to at once.
	Workers int `koanf:"webhook_workers"`
	// Timeout bounds one attempt, from connect to the answer read;
	// ConnectTimeout the connection.
	Timeout        time.Duration `koanf:"webhook_timeout"`
	ConnectTimeout time.Duration `koanf:"webhook_connect_timeout"`
	// RetrySchedule is the delay before each attempt, comma-separated.
	RetrySchedule string `koanf:"webhook_retry_schedule"`
	// DisableAfter disables an endpoint failing continuously this long.
	DisableAfter time.Duration `koanf:"webhook_disable_after"`
	// MaxEndpoints is the number of endpoints per API key.
	MaxEndpoints int `koanf:"webhook_max_endpoints"`
	// Lease is how long an instance holds an endpoint without renewing.
	Lease time.Duration `koanf:"webhook_lease"`
	// Retention keeps finished deliveries in the log this long.
	Retention time.Duration `koanf:"webhook_retention"`
	// AllowedNetworks may be reached though private (CIDRs, comma-separated).
	AllowedNetworks string `koanf:"webhook_allowed_networks"`
	// AllowHTTP permits http:// receivers outside development.
	AllowHTTP bool `koanf:"webhook_allow_http"`
}

// Schedule parses RetrySchedule.
func (w Webhooks) Schedule() ([]time.Duration, error) {
	var out []time.Duration
	for i, part := range strings.Split(w.RetrySchedule, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("entry %d (%q) is not a duration such as 0s, 5s or 30m", i+1, strings.TrimSpace(part))
		}
		out = append(out, d)
	}
	if len(out) > 20 {
		return nil, fmt.Errorf("at most 20 attempts, got %d", len(out))
	}
	return out, nil
}

// Networks parses AllowedNetworks.
func (w Webhooks) Networks() ([]netip.Prefix, error) {
	nets, err := parseNets(w.AllowedNetworks)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, len(nets))
	for i, n := range nets {
		a, _ := netip.AddrFromSlice(n.IP)
		ones, _ := n.Mask.Size()
		out[i] = netip.PrefixFrom(a, ones)
	}
	return out, nil
}

// Load reads the configuration from the YAML file at path (if path is not
// empty) and from the environment given as KEY=VALUE pairs (os.Environ() in
// production), then validates it.
func Load(path string, environ []string) (*Config, error) {
	envMap := filterEnv(environ)

	// APP_ENV decides the defaults, so it is read first from the same sources.
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
	}
	appEnv := EnvDevelopment
	probe := koanf.New(".")
	if path != "" {
		if err := probe.Load(file.Provider(path), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("parse config file %s: %w", path, err)
		}
	}
	if err := probe.Load(confmap.Provider(envMap, ""), nil); err != nil {
		return nil, fmt.Errorf("read environment: %w", err)
	}
	if v := probe.String("app_env"); v != "" {
		appEnv = v
	}

	k := koanf.New(".")
	if err := k.Load(confmap.Provider(defaults(appEnv), ""), nil); err != nil {
		return nil, fmt.Errorf("load defaults: %w", err)
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("parse config file %s: %w", path, err)
		}
	}
	if err := k.Load(confmap.Provider(envMap, ""), nil); err != nil {
		return nil, fmt.Errorf("read environment: %w", err)
	}

	var problems []error
	for _, key := range k.Keys() {
		if !slices.Contains(knownKeys(), key) {
			problems = append(problems, fmt.Errorf("%s: unknown configuration key", strings.ToUpper(key)))
		}
	}
	var cfg Config
	if err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{
		DecoderConfig: &mapstructure.DecoderConfig{
			DecodeHook:       mapstructure.StringToTimeDurationHookFunc(),
			WeaklyTypedInput: true,
			Result:           &cfg,
			TagName:          "koanf",
		},
	}); err != nil {
		problems = append(problems, decodeProblems(err)...)
	}
	cfg.applyDerived()
	problems = append(problems, cfg.validate()...)
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return &cfg, nil
}

// Error lists every problem found in a configuration.
type Error struct {
	Problems []error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the problems.
func (e *Error) Unwrap() []error { return e.Problems }

// applyDerived fills the values that depend on others (ports per driver,
// SQLite file locations under the data directory).
func (c *Config) applyDerived() {
	c.DB.Port = defaultPort(c.DB.Connection, c.DB.Port)
	if c.DB.ReadPort == 0 {
		c.DB.ReadPort = c.DB.Port
	}
	if c.DB.ReadUsername == "" {
		c.DB.ReadUsername = c.DB.Username
		if c.DB.ReadPassword == "" {
			c.DB.ReadPassword = c.DB.Password
		}
	}
	c.Dolibarr.Port = defaultPort(c.Dolibarr.Connection, c.Dolibarr.Port)
	if c.DB.Connection == DriverSQLite && c.DB.Database == "" {
		c.DB.Database = filepath.Join(c.DataDir, "shipmentapp.db")
	}
	if c.Dolibarr.Connection == DriverSQLite && c.Dolibarr.Database == "" {
		c.Dolibarr.Database = filepath.Join(c.DataDir, "dolibarr-demo.db")
	}
	c.LogLevel = strings.ToLower(c.LogLevel)
}

func defaultPort(driver string, port int) int {
	if port != 0 {
		return port
	}
	switch driver {
	case DriverMySQL:
		return 3306
	case DriverPostgres:
		return 5432
	}
	return 0
}

func (c *Config) validate() []error {
	var p []error
	add := func(key, format string, args ...any) {
		p = append(p, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if !slices.Contains([]string{EnvDevelopment, EnvStaging, EnvProduction}, c.Env) {
		add("APP_ENV", "must be development, staging or production, got %q", c.Env)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		add("APP_ADDR", "must be host:port, got %q", c.Addr)
	}
	if _, ok := httpURL(c.URL); c.URL != "" && !ok {
		add("APP_URL", "must be an absolute http(s) URL, got %q", c.URL)
	}
	if c.URL == "" && (c.Env == EnvStaging || c.Env == EnvProduction) {
		add("APP_URL", "is required in %s: the public address clients reach the API at, such as https://api.example.com "+
			"(download links and the allowed websocket origin are built from it; only development follows APP_ADDR)", c.Env)
	}
	if c.DataDir == "" {
		add("APP_DATA_DIR", "must not be empty")
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		add("LOG_LEVEL", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	p = append(p, validateDB("DB", c.DB.Connection, c.DB.Host, c.DB.Port, c.DB.Database, c.DB.Username, c.DB.SSLMode)...)
	if c.DB.MaxOpenConns < 1 {
		add("DB_MAX_OPEN_CONNS", "must be at least 1, got %d", c.DB.MaxOpenConns)
	}
	if c.DB.MaxIdleConns < 0 || c.DB.MaxIdleConns > c.DB.MaxOpenConns {
		add("DB_MAX_IDLE_CONNS", "must be between 0 and DB_MAX_OPEN_CONNS (%d), got %d", c.DB.MaxOpenConns, c.DB.MaxIdleConns)
	}
	if c.DB.ConnMaxLifetime < 0 {
		add("DB_CONN_MAX_LIFETIME", "must not be negative")
	}
	if reps, err := c.DB.Replicas(); err != nil {
		add("DB_READ_HOST", "%v", err)
	} else if len(reps) > 0 && c.DB.Connection == DriverSQLite {
		add("DB_READ_HOST", "read replicas need DB_CONNECTION=mysql or pgsql")
	}
	if c.DB.ReadPort < 0 || c.DB.ReadPort > 65535 {
		add("DB_READ_PORT", "must be between 1 and 65535, got %d", c.DB.ReadPort)
	}
	if c.DB.ReplicaMaxLag <= 0 {
		add("DB_REPLICA_MAX_LAG", "must be a positive duration, got %s", c.DB.ReplicaMaxLag)
	}
	if c.DB.ReplicaCheckInterval < 10*time.Millisecond {
		add("DB_REPLICA_CHECK_INTERVAL", "must be at least 10ms, got %s", c.DB.ReplicaCheckInterval)
	}
	if c.DB.ReadYourWrites < 0 {
		add("DB_READ_YOUR_WRITES", "must not be negative, got %s", c.DB.ReadYourWrites)
	}
	if c.Debug && c.Env == EnvProduction {
		add("APP_DEBUG", "may not be true in production: it would show internal errors to clients")
	}
	if !slices.Contains([]string{"auto", "on", "off"}, c.GraphQL.PlaygroundDevAuth) {
		add("PLAYGROUND_DEV_AUTH", "must be auto, on or off, got %q", c.GraphQL.PlaygroundDevAuth)
	} else if c.GraphQL.PlaygroundDevAuth == "on" && c.Env != EnvDevelopment {
		add("PLAYGROUND_DEV_AUTH", "may only be on in development: it signs every playground visitor in as an admin")
	}
	if c.DB.AutoMigrate && c.Env != EnvDevelopment {
		add("DB_AUTO_MIGRATE", "may only be true in development; run `shipmentapp migrate up` in %s", c.Env)
	}
	p = append(p, validateDB("DOLIBARR_DB", c.Dolibarr.Connection, c.Dolibarr.Host, c.Dolibarr.Port, c.Dolibarr.Database, c.Dolibarr.Username, "")...)
	if c.Dolibarr.Connection == DriverPostgres {
		add("DOLIBARR_DB_CONNECTION", "must be mysql (a MySQL/MariaDB Dolibarr) or sqlite (the demo); pgsql is not supported for Dolibarr yet")
	}
	if !prefixPattern.MatchString(c.Dolibarr.Prefix) {
		add("DOLIBARR_DB_PREFIX", "must be letters, digits and underscores (Dolibarr's default is llx_), got %q", c.Dolibarr.Prefix)
	}
	if c.Dolibarr.Timeout <= 0 {
		add("DOLIBARR_DB_TIMEOUT", "must be a positive duration, got %s", c.Dolibarr.Timeout)
	}
	if c.Dolibarr.MaxOpenConns < 1 {
		add("DOLIBARR_DB_MAX_OPEN_CONNS", "must be at least 1, got %d", c.Dolibarr.MaxOpenConns)
	}
	if c.Dolibarr.Entity < 1 {
		add("DOLIBARR_ENTITY", "must be at least 1, got %d", c.Dolibarr.Entity)
	}
	if c.Dolibarr.DemoSeed && c.Dolibarr.Connection != DriverSQLite {
		add("DOLIBARR_DEMO_SEED", "only seeds a demo SQLite database; it must be false with DOLIBARR_DB_CONNECTION=%s (the real Dolibarr is never written)", c.Dolibarr.Connection)
	}
	durations := map[string]time.Duration{
		"HTTP_READ_HEADER_TIMEOUT": c.HTTP.ReadHeaderTimeout,
		"HTTP_READ_TIMEOUT":        c.HTTP.ReadTimeout,
		"HTTP_WRITE_TIMEOUT":       c.HTTP.WriteTimeout,
		"HTTP_IDLE_TIMEOUT":        c.HTTP.IdleTimeout,
		"HTTP_SHUTDOWN_TIMEOUT":    c.HTTP.ShutdownTimeout,
		"HTTP_REQUEST_TIMEOUT":     c.HTTP.RequestTimeout,

		"SUBSCRIPTION_INIT_TIMEOUT":  c.Subs.InitTimeout,
		"SUBSCRIPTION_KEEPALIVE":     c.Subs.KeepAlive,
		"SUBSCRIPTION_WRITE_TIMEOUT": c.Subs.WriteTimeout,
		"SUBSCRIPTION_AUTH_RECHECK":  c.Subs.AuthRecheck,
		"SUBSCRIPTION_POLL_INTERVAL": c.Subs.PollInterval,

		"WEBHOOK_TIMEOUT":         c.Webhooks.Timeout,
		"WEBHOOK_CONNECT_TIMEOUT": c.Webhooks.ConnectTimeout,
		"WEBHOOK_DISABLE_AFTER":   c.Webhooks.DisableAfter,
		"WEBHOOK_LEASE":           c.Webhooks.Lease,
		"WEBHOOK_RETENTION":       c.Webhooks.Retention,

		"HEALTH_DB_INTERVAL":      c.Health.DBInterval,
		"HEALTH_DB_TIMEOUT":       c.Health.DBTimeout,
		"HEALTH_CACHE_INTERVAL":   c.Health.CacheInterval,
		"HEALTH_CACHE_TIMEOUT":    c.Health.CacheTimeout,
		"HEALTH_STORAGE_INTERVAL": c.Health.StorageInterval,
		"HEALTH_STORAGE_TIMEOUT":  c.Health.StorageTimeout,
	}
	for _, key := range slices.Sorted(maps.Keys(durations)) {
		if durations[key] <= 0 {
			add(key, "must be a positive duration such as 5s, got %s", durations[key])
		}
	}
	if c.HTTP.ShutdownDelay < 0 || c.HTTP.ShutdownDelay >= c.HTTP.ShutdownTimeout {
		add("HTTP_SHUTDOWN_DELAY", "must be between 0 and HTTP_SHUTDOWN_TIMEOUT (%s), got %s", c.HTTP.ShutdownTimeout, c.HTTP.ShutdownDelay)
	}
	if c.HTTP.Compression != "on" && c.HTTP.Compression != "off" {
		add("HTTP_COMPRESSION", "must be on or off, got %q", c.HTTP.Compression)
	}
	if c.HTTP.CompressMinBytes < 0 {
		add("HTTP_COMPRESS_MIN_BYTES", "must not be negative, got %d", c.HTTP.CompressMinBytes)
	}
	if c.HTTP.MaxBodyBytes < 1024 {
		add("HTTP_MAX_BODY_BYTES", "must be at least 1024, got %d", c.HTTP.MaxBodyBytes)
	}
	limits := map[string]int{
		"GRAPHQL_MAX_DEPTH": c.GraphQL.MaxDepth, "GRAPHQL_MAX_ALIASES": c.GraphQL.MaxAliases,
		"GRAPHQL_MAX_ROOT_FIELDS": c.GraphQL.MaxRootFields, "GRAPHQL_MAX_COMPLEXITY": c.GraphQL.MaxComplexity,
		"GRAPHQL_MAX_TOKENS": c.GraphQL.MaxTokens,
	}
	for _, key := range slices.Sorted(maps.Keys(limits)) {
		if v := limits[key]; v < 0 {
			add(key, "must not be negative (0: no limit), got %d", v)
		}
	}
	if c.OIDC.JWKSURL != "" {
		if u, ok := httpURL(c.OIDC.JWKSURL); !ok {
			add("OIDC_JWKS_URL", "must be an absolute http(s) URL, got %q", c.OIDC.JWKSURL)
		} else if u.Scheme == "http" && c.Env == EnvProduction {
			add("OIDC_JWKS_URL", "must be https in production")
		}
		if c.OIDC.Issuer == "" {
			add("OIDC_ISSUER", "is required with OIDC_JWKS_URL")
		}
		if c.OIDC.Audience == "" {
			add("OIDC_AUDIENCE", "is required with OIDC_JWKS_URL")
		}
	}
	if !slices.Contains([]string{"apq", "allowlist", "off"}, c.APQ.Mode) {
		add("PERSISTED_QUERIES", "must be apq, allowlist or off, got %q", c.APQ.Mode)
	}
	switch c.APQ.CacheDriver {
	case "memory", "memcached":
	case "redis":
		if len(c.Redis.Addresses()) == 0 {
			add("CACHE_DRIVER", "redis needs REDIS_HOST or REDIS_ADDRS")
		}
	default:
		add("CACHE_DRIVER", "must be memory, redis or memcached, got %q", c.APQ.CacheDriver)
	}
	if c.APQ.TTL <= 0 {
		add("APQ_TTL", "must be a positive duration, got %s", c.APQ.TTL)
	}
	if c.APQ.Size < 1 {
		add("APQ_CACHE_SIZE", "must be at least 1, got %d", c.APQ.Size)
	}
	if c.Redis.Port < 1 || c.Redis.Port > 65535 {
		add("REDIS_PORT", "must be between 1 and 65535, got %d", c.Redis.Port)
	}
	if c.Redis.Timeout <= 0 {
		add("REDIS_TIMEOUT", "must be a positive duration, got %s", c.Redis.Timeout)
	}
	if c.Redis.MasterName != "" && len(c.Redis.Addresses()) == 0 {
		add("REDIS_MASTER_NAME", "needs the Sentinel addresses in REDIS_ADDRS")
	}
	if c.Limits.IPPerMinute < 0 || c.Limits.KeyPerMinute < 0 {
		add("RATE_LIMIT_IP_PER_MINUTE", "rate limits must not be negative (0: no limit)")
	}
	if _, err := c.Limits.Origins(); err != nil {
		add("HTTP_CORS_ORIGINS", "%v", err)
	}
	if _, err := c.Limits.TrustedNets(); err != nil {
		add("HTTP_TRUSTED_PROXIES", "%v", err)
	}
	counts := map[string]int{
		"SUBSCRIPTION_MAX_PER_CONNECTION":      c.Subs.MaxPerConnection,
		"SUBSCRIPTION_MAX_CONNECTIONS_PER_KEY": c.Subs.MaxConnectionsPerKey,
		"SUBSCRIPTION_BUFFER":                  c.Subs.Buffer,
		"WEBHOOK_WORKERS":                      c.Webhooks.Workers,
		"WEBHOOK_MAX_ENDPOINTS":                c.Webhooks.MaxEndpoints,
		"HEALTH_DB_RETRIES":                    c.Health.DBRetries,
		"HEALTH_CACHE_RETRIES":                 c.Health.CacheRetries,
		"HEALTH_STORAGE_RETRIES":               c.Health.StorageRetries,
	}
	for _, key := range slices.Sorted(maps.Keys(counts)) {
		if v := counts[key]; v < 1 {
			add(key, "must be at least 1, got %d", v)
		}
	}
	if c.Tracing.Exporter != "off" && c.Tracing.Exporter != "otlp" {
		add("TRACING_EXPORTER", "must be off or otlp, got %q", c.Tracing.Exporter)
	}
	if c.Tracing.SampleRatio < 0 || c.Tracing.SampleRatio > 1 {
		add("TRACING_SAMPLE_RATIO", "must be between 0 and 1, got %v", c.Tracing.SampleRatio)
	}
	if _, err := c.Subs.AllowedOrigins(); err != nil {
		add("SUBSCRIPTION_ALLOWED_ORIGINS", "%v", err)
	}
	if c.GraphQL.QueryCache < 0 {
		add("GRAPHQL_QUERY_CACHE_SIZE", "must not be negative, got %d", c.GraphQL.QueryCache)
	}
	if _, err := c.Webhooks.Schedule(); err != nil {
		add("WEBHOOK_RETRY_SCHEDULE", "%v", err)
	}
	if _, err := c.Webhooks.Networks(); err != nil {
		add("WEBHOOK_ALLOWED_NETWORKS", "%v", err)
	}
	if c.Webhooks.Lease < c.Webhooks.Timeout+5*time.Second {
		add("WEBHOOK_LEASE", "must outlast an attempt by 5 s at least (WEBHOOK_TIMEOUT is %s), got %s", c.Webhooks.Timeout, c.Webhooks.Lease)
	}
	if _, err := secretbox.ParseKeys(c.Webhooks.SecretKeys); c.Webhooks.SecretKeys != "" && err != nil {
		add("WEBHOOK_SECRET_KEYS", "%v", err)
	}
	return append(p, c.validateFiles()...)
}

func (c *Config) validateFiles() []error {
	var p []error
	add := func(key, format string, args ...any) {
		p = append(p, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	f, s3 := c.Files, c.AWS
	switch f.Disk {
	case "local":
		if f.SigningKey == "" && c.Env != EnvDevelopment {
			add("FILE_SIGNING_KEY", "is required with FILESYSTEM_DISK=local in %s (every instance must sign download links with the same key); generate one with: openssl rand -hex 32", c.Env)
		}
	case "s3":
		if s3.Bucket == "" {
			add("AWS_BUCKET", "is required with FILESYSTEM_DISK=s3")
		}
	default:
		add("FILESYSTEM_DISK", "must be local or s3, got %q", f.Disk)
	}
	if f.SigningKey != "" && len(f.SigningKey) < 32 {
		add("FILE_SIGNING_KEY", "must be at least 32 characters, got %d", len(f.SigningKey))
	}
	if (s3.AccessKeyID == "") != (s3.SecretAccessKey == "") {
		add("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together (or leave both empty for the SDK's default credentials: IAM role, IRSA, shared files)")
	}
	endpoints := map[string]string{"AWS_ENDPOINT": s3.Endpoint, "AWS_URL": s3.URL}
	for _, key := range slices.Sorted(maps.Keys(endpoints)) {
		if v := endpoints[key]; v != "" {
			if _, ok := httpURL(v); !ok {
				add(key, "must be an absolute http(s) URL, got %q", v)
			}
		}
	}
	if s3.Region == "" {
		add("AWS_DEFAULT_REGION", "must not be empty")
	}
	if f.MaxBytes < 1 {
		add("FILE_MAX_BYTES", "must be at least 1, got %d", f.MaxBytes)
	}
	if f.MaxRequestBytes < f.MaxBytes {
		add("FILE_MAX_REQUEST_BYTES", "must be at least FILE_MAX_BYTES (%d), got %d", f.MaxBytes, f.MaxRequestBytes)
	}
	if f.MaxFiles < 1 {
		add("FILE_MAX_FILES", "must be at least 1, got %d", f.MaxFiles)
	}
	if f.MaxConcurrentUploads < 1 {
		add("FILE_MAX_CONCURRENT_UPLOADS", "must be at least 1, got %d", f.MaxConcurrentUploads)
	}
	if !keyPrefixPattern.MatchString(f.KeyPrefix) || strings.Contains("/"+f.KeyPrefix, "/./") || strings.Contains("/"+f.KeyPrefix, "/../") {
		add("FILE_KEY_PREFIX", "must be lower-case letters, digits, '-', '_', '.' in /-separated segments ending with /, such as files/ or production/files/; got %q", f.KeyPrefix)
	}
	if f.UploadTimeout <= 0 {
		add("FILE_UPLOAD_TIMEOUT", "must be a positive duration, got %s", f.UploadTimeout)
	}
	if f.SweepInterval < 0 {
		add("FILE_SWEEP_INTERVAL", "must not be negative (0: never), got %s", f.SweepInterval)
	}
	if err := CheckSweepGrace(f.SweepGrace, f.UploadTimeout); err != nil {
		add("FILE_SWEEP_GRACE", "%v", err)
	}
	return p
}

// httpURL parses s as an absolute http or https URL.
func httpURL(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

func validateDB(prefix, driver, host string, port int, database, username, sslmode string) []error {
	var p []error
	add := func(key, format string, args ...any) {
		p = append(p, fmt.Errorf("%s_%s: "+format, append([]any{prefix, key}, args...)...))
	}
	switch driver {
	case DriverSQLite:
		if database == "" {
			add("DATABASE", "must name the SQLite file")
		}
		return p
	case DriverMySQL, DriverPostgres:
	default:
		add("CONNECTION", "must be mysql, pgsql or sqlite, got %q", driver)
		return p
	}
	if host == "" {
		add("HOST", "is required with %s_CONNECTION=%s", prefix, driver)
	}
	if port < 1 || port > 65535 {
		add("PORT", "must be between 1 and 65535, got %d", port)
	}
	if database == "" {
		add("DATABASE", "is required with %s_CONNECTION=%s", prefix, driver)
	}
	if username == "" {
		add("USERNAME", "is required with %s_CONNECTION=%s", prefix, driver)
	}
	if prefix == "DB" && driver == DriverPostgres && !slices.Contains([]string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}, sslmode) {
		add("SSLMODE", "must be a libpq sslmode (disable, prefer, require, verify-ca, verify-full), got %q", sslmode)
	}
	return p
}

// filterEnv keeps the environment variables that are configuration keys,
// lower-cased as koanf keys.
func filterEnv(environ []string) map[string]any {
	known := knownKeys()
	out := map[string]any{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		lk := strings.ToLower(k)
		if k == strings.ToUpper(k) && slices.Contains(known, lk) {
			out[lk] = v
		}
	}
	return out
}

func knownKeys() []string {
	keys := Keys()
	for i := range keys {
		keys[i] = strings.ToLower(keys[i])
	}
	return keys
}

// decodeProblems splits a decoding error into one problem per key.
func decodeProblems(err error) []error {
	var de *mapstructure.DecodeError
	if errors.As(err, &de) && !isJoined(err) {
		return []error{fmt.Errorf("%s: %w", strings.ToUpper(de.Name()), errors.Unwrap(de))}
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, decodeProblems(e)...)
		}
		return out
	}
	if inner := errors.Unwrap(err); inner != nil {
		return decodeProblems(inner)
	}
	return []error{err}
}

func isJoined(err error) bool {
	_, ok := err.(interface{ Unwrap() []error })
	return ok
}

// collectKeys appends the koanf keys of t's fields, upper-cased, descending
// into squashed structs.
func collectKeys(t reflect.Type, keys *[]string) {
	for f := range t.Fields() {
		tag := f.Tag.Get("koanf")
		if tag == ",squash" {
			collectKeys(f.Type, keys)
			continue
		}
		if tag != "" {
			*keys = append(*keys, strings.ToUpper(tag))
		}
	}
}
