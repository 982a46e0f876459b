// Command benchceiling is the "ceiling" of the benchmark of issue 9: a
// hand-written net/http + database/sql server that answers the two read
// workloads' documents (bench/queries/app/nested-list.graphql and
// by-reference.graphql) with byte for byte the JSON shipmentapp returns,
// with the fewest statements: one statement on the main database for the
// page (with each shipment's last events and files) and one Dolibarr
// statement for its customers and their countries. The main database is
// PostgreSQL (-pg) or MariaDB/MySQL (-mysql: the app's production database;
// point it at the replica the app reads from).
//
//	go run ./bench/cmd/benchceiling -addr 127.0.0.1:8091 \
//	  -pg 'postgres://root@127.0.0.1:5432/shipmentapp_bench?sslmode=disable' \
//	  -dolibarr 'root@tcp(127.0.0.1:3306)/shipmentapp_bench_dolibarr'
//	go run ./bench/cmd/benchceiling -addr 127.0.0.1:8091 \
//	  -mysql 'root@tcp(127.0.0.1:3307)/sa_rep_shipmentapp_bench' \
//	  -dolibarr 'root@tcp(127.0.0.1:3306)/shipmentapp_bench_dolibarr'
//
// POST /graphql takes {"operationName": "NestedList" | "ShipmentByReference",
// "variables": {...}} (the query text is ignored). GET /stats answers
// {"requests":N,"statements":M,"main":A,"dolibarr":B} (M = A + B); POST
// /stats/reset zeroes them. It checks no credential: it is a ceiling, not a
// server.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/gid"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("benchceiling: ")
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	pgDSN := flag.String("pg", "", "main PostgreSQL database URL")
	myDSN := flag.String("mysql", "", "main MariaDB/MySQL database DSN (instead of -pg)")
	dolDSN := flag.String("dolibarr", "", "Dolibarr MariaDB/MySQL DSN")
	pool := flag.Int("pool", 2*runtime.GOMAXPROCS(0), "connections per database")
	flag.Parse()
	if (*pgDSN == "") == (*myDSN == "") || *dolDSN == "" {
		flag.Usage()
		log.Fatal("one of -pg and -mysql, and -dolibarr, are required")
	}
	dialect, mainDSN := Postgres, *pgDSN
	if *myDSN != "" {
		dialect, mainDSN = MySQL, *myDSN
	}
	mainDB, dol, err := Open(dialect, mainDSN, *dolDSN, *pool)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, d := range []*sql.DB{mainDB, dol} {
		if err := d.PingContext(ctx); err != nil {
			log.Fatal(err)
		}
	}
	srv := &http.Server{Addr: *addr, Handler: New(dialect, mainDB, dol), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Printf("listening on %s (%s, pools of %d)", *addr, dialect, *pool)
	log.Fatal(srv.ListenAndServe())
}

// Dialect is the main database's SQL dialect.
type Dialect string

// The main databases the ceiling reads.
const (
	Postgres Dialect = "postgres"
	MySQL    Dialect = "mysql"
)

// Open opens the main database (PostgreSQL URL or MariaDB/MySQL DSN, by
// dialect) and Dolibarr with pools of n connections. MariaDB/MySQL DSNs get
// interpolateParams=true (one round trip a statement, no server-side
// prepare/close: the ceiling only reads) and UTC times.
func Open(dialect Dialect, mainDSN, dolDSN string, n int) (mainDB, dol *sql.DB, err error) {
	switch dialect {
	case Postgres:
		u, err := url.Parse(mainDSN)
		if err != nil {
			return nil, nil, fmt.Errorf("-pg: %w", err)
		}
		q := u.Query()
		q.Set("timezone", "UTC")
		u.RawQuery = q.Encode()
		if mainDB, err = sql.Open("pgx", u.String()); err != nil {
			return nil, nil, err
		}
	case MySQL:
		if mainDB, err = openMySQL(mainDSN); err != nil {
			return nil, nil, fmt.Errorf("-mysql: %w", err)
		}
	default:
		return nil, nil, fmt.Errorf("unknown dialect %q", dialect)
	}
	if dol, err = openMySQL(dolDSN); err != nil {
		_ = mainDB.Close()
		return nil, nil, fmt.Errorf("-dolibarr: %w", err)
	}
	for _, d := range []*sql.DB{mainDB, dol} {
		d.SetMaxOpenConns(n)
		d.SetMaxIdleConns(n)
		d.SetConnMaxIdleTime(5 * time.Minute)
	}
	return mainDB, dol, nil
}

func openMySQL(dsn string) (*sql.DB, error) {
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	c.InterpolateParams = true
	c.ParseTime = true
	c.Loc = time.UTC
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	c.Params["time_zone"] = "'+00:00'" // as the app's connections
	return sql.Open("mysql", c.FormatDSN())
}

// Server answers the two documents.
type Server struct {
	dialect                       Dialect
	main, dol                     *sql.DB
	requests, mainStmts, dolStmts atomic.Int64
	mux                           *http.ServeMux
}

// New returns the server over the main database (of dialect) and Dolibarr.
func New(dialect Dialect, mainDB, dol *sql.DB) *Server {
	s := &Server{dialect: dialect, main: mainDB, dol: dol, mux: http.NewServeMux()}
	s.mux.HandleFunc("POST /graphql", s.graphql)
	s.mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		m, d := s.mainStmts.Load(), s.dolStmts.Load()
		fmt.Fprintf(w, `{"requests":%d,"statements":%d,"main":%d,"dolibarr":%d}`+"\n", s.requests.Load(), m+d, m, d)
	})
	s.mux.HandleFunc("POST /stats/reset", func(w http.ResponseWriter, _ *http.Request) {
		s.requests.Store(0)
		s.mainStmts.Store(0)
		s.dolStmts.Store(0)
		w.WriteHeader(http.StatusNoContent)
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Stats returns the requests served and the statements they sent (main
// database and Dolibarr).
func (s *Server) Stats() (requests, statements int64) {
	return s.requests.Load(), s.mainStmts.Load() + s.dolStmts.Load()
}

type request struct {
	OperationName string `json:"operationName"`
	Variables     struct {
		Statuses  *[]string `json:"statuses"`
		Reference *string   `json:"reference"`
	} `json:"variables"`
}

func (s *Server) graphql(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	var req request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return
	}
	var out []byte
	var err error
	switch req.OperationName {
	case "NestedList":
		// Like the app (Ent's where input), an absent or null list does not
		// filter and an empty one matches nothing.
		var statuses []string
		if req.Variables.Statuses != nil {
			statuses = *req.Variables.Statuses
			for _, st := range statuses {
				if !domain.Status(st).Valid() {
					writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("%q is not a valid ShipmentStatus", st))
					return
				}
			}
		}
		out, err = s.NestedList(r.Context(), statuses)
	case "ShipmentByReference":
		if req.Variables.Reference == nil {
			writeError(w, http.StatusUnprocessableEntity, "variable reference is required")
			return
		}
		out, err = s.ShipmentByReference(r.Context(), *req.Variables.Reference)
	default:
		writeError(w, http.StatusBadRequest, "unknown operationName "+strconv.Quote(req.OperationName)+": NestedList or ShipmentByReference")
		return
	}
	if err != nil {
		log.Printf("%s: %v", req.OperationName, err)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = w.Write(out)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b := append([]byte(`{"errors":[{"message":`), quote(nil, msg)...)
	_, _ = w.Write(append(b, "}]}"...))
}

// customer is a Dolibarr customer with its country (code and label empty
// when it has none).
type customer struct {
	name, code, city, email, phone string
	countryCode, countryLabel      string
	hasCountry                     bool
}

// customers loads the visible customers (entity 1, client 1 or 3) of ids
// with their countries in one statement.
func (s *Server) customers(ctx context.Context, ids []int64) (map[int64]*customer, error) {
	out := make(map[int64]*customer, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var sb strings.Builder
	sb.WriteString(`SELECT s.rowid, COALESCE(s.nom, ''), COALESCE(s.code_client, ''), COALESCE(s.town, ''),
		COALESCE(s.email, ''), COALESCE(s.phone, ''), c.code, c.label
		FROM llx_societe s LEFT JOIN llx_c_country c ON s.fk_pays > 0 AND c.rowid = s.fk_pays
		WHERE s.entity = 1 AND s.client IN (1, 3) AND s.rowid IN (`)
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('?')
		args[i] = id
	}
	sb.WriteByte(')')
	s.dolStmts.Add(1)
	rows, err := s.dol.QueryContext(ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("dolibarr: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var id int64
		var c customer
		var code, label sql.NullString
		if err := rows.Scan(&id, &c.name, &c.code, &c.city, &c.email, &c.phone, &code, &label); err != nil {
			return nil, err
		}
		c.hasCountry = code.Valid
		c.countryCode, c.countryLabel = code.String, label.String
		out[id] = &c
	}
	return out, rows.Err()
}

// nestedListSQL is workload (a): the page of 50 shipments newest first,
// each one's last 3 events and its files, as one result of typed rows: k = 0
// the page (ord its position), 1 the events, 2 the files.
const nestedListSQL = `WITH page AS (
	SELECT id, reference, status, created_at, customer_id, row_number() OVER (ORDER BY created_at DESC, id) AS ord
	FROM (SELECT id, reference, status, created_at, customer_id FROM shipments %s ORDER BY created_at DESC, id LIMIT 50) x
)
SELECT 0 AS k, p.id AS sid, p.ord, p.reference AS a, p.status AS b, p.created_at AS t, p.customer_id AS n FROM page p
UNION ALL
SELECT 1, p.id, e.ord, e.status, NULL, e.occurred_at, NULL FROM page p CROSS JOIN LATERAL (
	SELECT status, occurred_at, row_number() OVER (ORDER BY occurred_at DESC, id) AS ord
	FROM tracking_events WHERE shipment_id = p.id ORDER BY occurred_at DESC, id LIMIT 3) e
UNION ALL
SELECT 2, f.shipment_id, row_number() OVER (PARTITION BY f.shipment_id ORDER BY f.uploaded_at, f.id), f.name, NULL, f.uploaded_at, NULL
FROM files f WHERE f.shipment_id IN (SELECT id FROM page)
ORDER BY 1, 2, 3`

// nestedListMySQL is nestedListSQL for MariaDB 10.11 / MySQL 8, which have
// no LATERAL: each page shipment's last 3 events by a window over the
// page's events (as the app's own query does). MariaDB evaluates the CTE
// once per reference, so it holds the page's IDs only, read from the
// (status, created_at) index alone (a tenth of the time of reading the
// rows; 3,600 candidates for (a)), and the 50 rows are read by primary key.
const nestedListMySQL = `WITH ids AS (
	SELECT id, row_number() OVER (ORDER BY created_at DESC, id) AS ord
	FROM (SELECT id, created_at FROM shipments %s ORDER BY created_at DESC, id LIMIT 50) x
)
SELECT 0 AS k, s.id AS sid, i.ord, s.reference AS a, s.status AS b, s.created_at AS t, s.customer_id AS n
FROM ids i JOIN shipments s ON s.id = i.id
UNION ALL
SELECT 1, e.shipment_id, e.ord, e.status, NULL, e.occurred_at, NULL FROM (
	SELECT ev.shipment_id, ev.status, ev.occurred_at,
		row_number() OVER (PARTITION BY ev.shipment_id ORDER BY ev.occurred_at DESC, ev.id) AS ord
	FROM tracking_events ev WHERE ev.shipment_id IN (SELECT id FROM ids)) e
WHERE e.ord <= 3
UNION ALL
SELECT 2, f.shipment_id, row_number() OVER (PARTITION BY f.shipment_id ORDER BY f.uploaded_at, f.id), f.name, NULL, f.uploaded_at, NULL
FROM files f WHERE f.shipment_id IN (SELECT id FROM ids)
ORDER BY 1, 2, 3`

var (
	nestedListAll      = fmt.Sprintf(nestedListSQL, "")
	nestedListStatuses = fmt.Sprintf(nestedListSQL, "WHERE status = ANY($1)")
	nestedListMySQLAll = fmt.Sprintf(nestedListMySQL, "")
)

// nestedListMySQLStatuses is nestedListMySQL for n statuses (n > 0).
func nestedListMySQLStatuses(n int) string {
	return fmt.Sprintf(nestedListMySQL, "WHERE status IN (?"+strings.Repeat(",?", n-1)+")")
}

type listShipment struct {
	id, ord    int64
	reference  string
	status     string
	createdAt  time.Time
	customerID int64
	events     []listEvent
	files      []string
}

type listEvent struct {
	status string
	at     time.Time
}

// NestedList answers workload (a) for statuses (nil: all; empty: none).
func (s *Server) NestedList(ctx context.Context, statuses []string) ([]byte, error) {
	page, err := s.listPage(ctx, statuses)
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	var ids []int64
	for _, sh := range page {
		if !seen[sh.customerID] {
			seen[sh.customerID] = true
			ids = append(ids, sh.customerID)
		}
	}
	customers, err := s.customers(ctx, ids)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 16<<10)
	b = append(b, `{"data":{"shipments":{"edges":[`...)
	for i, sh := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"node":{"id":`...)
		b = quote(b, gid.New(gid.TypeShipment, int(sh.id)).String())
		b = append(b, `,"reference":`...)
		b = quote(b, sh.reference)
		b = append(b, `,"status":`...)
		b = quote(b, sh.status)
		b = append(b, `,"createdAt":`...)
		b = appendTime(b, sh.createdAt)
		b = append(b, `,"customer":`...)
		if c := customers[sh.customerID]; c == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, `{"name":`...)
			b = quote(b, c.name)
			b = append(b, `,"country":`...)
			b = appendCountry(b, c)
			b = append(b, '}')
		}
		b = append(b, `,"events":{"edges":[`...)
		for j, e := range sh.events {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"node":{"status":`...)
			b = quote(b, e.status)
			b = append(b, `,"occurredAt":`...)
			b = appendTime(b, e.at)
			b = append(b, "}}"...)
		}
		b = append(b, `]},"files":[`...)
		for j, name := range sh.files {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = quote(b, name)
			b = append(b, '}')
		}
		b = append(b, "]}}"...)
	}
	b = append(b, "]}}}"...)
	return b, nil
}

func (s *Server) listPage(ctx context.Context, statuses []string) ([]*listShipment, error) {
	if statuses != nil && len(statuses) == 0 {
		return nil, nil // an empty list matches nothing: no statement to send
	}
	s.mainStmts.Add(1)
	var rows *sql.Rows
	var err error
	switch {
	case s.dialect == MySQL && len(statuses) == 0:
		rows, err = s.main.QueryContext(ctx, nestedListMySQLAll)
	case s.dialect == MySQL:
		args := make([]any, len(statuses))
		for i, st := range statuses {
			args[i] = st
		}
		rows, err = s.main.QueryContext(ctx, nestedListMySQLStatuses(len(statuses)), args...)
	case len(statuses) == 0:
		rows, err = s.main.QueryContext(ctx, nestedListAll)
	default:
		rows, err = s.main.QueryContext(ctx, nestedListStatuses, statuses)
	}
	if err != nil {
		return nil, fmt.Errorf("nested list: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var page []*listShipment
	byID := map[int64]*listShipment{}
	for rows.Next() {
		var k, sid, ord int64
		var a string
		var b sql.NullString
		var t time.Time
		var n sql.NullInt64
		if err := rows.Scan(&k, &sid, &ord, &a, &b, &t, &n); err != nil {
			return nil, err
		}
		switch k {
		case 0:
			sh := &listShipment{id: sid, ord: ord, reference: a, status: b.String, createdAt: t, customerID: n.Int64}
			page = append(page, sh)
			byID[sid] = sh
		case 1:
			if sh := byID[sid]; sh != nil {
				sh.events = append(sh.events, listEvent{status: a, at: t})
			}
		case 2:
			if sh := byID[sid]; sh != nil {
				sh.files = append(sh.files, a)
			}
		}
	}
	// The page's rows come by shipment ID: put them back in page order.
	slices.SortFunc(page, func(a, b *listShipment) int { return cmp.Compare(a.ord, b.ord) })
	return page, rows.Err()
}

// byReferenceSQL is workload (b): the shipment (k = 0), its first 20
// events newest first (k = 1) and its files oldest first (k = 2).
const byReferenceSQL = `WITH s AS (SELECT * FROM shipments WHERE reference = $1)
SELECT 0 AS k, 0::bigint AS ord, s.id, s.reference AS a, s.status AS b, s.carrier AS c, s.service_level AS d,
	s.tracking_number AS e, s.origin AS j1, s.destination AS j2, s.parcels AS j3, s.estimated_delivery_at AS t1,
	s.delivered_at AS t2, s.created_at AS t3, s.updated_at AS t4, s.version AS n, s.customer_id AS m FROM s
UNION ALL
SELECT 1, row_number() OVER (ORDER BY e.occurred_at DESC, e.id), e.id, e.description, e.status, NULL, NULL, NULL,
	e.location, NULL, NULL, e.occurred_at, NULL, NULL, NULL, NULL, NULL
FROM (SELECT ev.id, ev.description, ev.status, ev.location, ev.occurred_at FROM tracking_events ev JOIN s ON ev.shipment_id = s.id
	ORDER BY ev.occurred_at DESC, ev.id LIMIT 20) e
UNION ALL
SELECT 2, row_number() OVER (ORDER BY f.uploaded_at, f.id), f.id, f.name, f.kind, f.content_type, NULL, NULL,
	NULL, NULL, NULL, f.uploaded_at, NULL, NULL, NULL, f.size, NULL
FROM files f JOIN s ON f.shipment_id = s.id
ORDER BY 1, 2`

// byReferenceMySQL is byReferenceSQL for MariaDB/MySQL.
const byReferenceMySQL = `WITH s AS (SELECT * FROM shipments WHERE reference = ?)
SELECT 0 AS k, 0 AS ord, s.id, s.reference AS a, s.status AS b, s.carrier AS c, s.service_level AS d,
	s.tracking_number AS e, s.origin AS j1, s.destination AS j2, s.parcels AS j3, s.estimated_delivery_at AS t1,
	s.delivered_at AS t2, s.created_at AS t3, s.updated_at AS t4, s.version AS n, s.customer_id AS m FROM s
UNION ALL
SELECT 1, row_number() OVER (ORDER BY e.occurred_at DESC, e.id), e.id, e.description, e.status, NULL, NULL, NULL,
	e.location, NULL, NULL, e.occurred_at, NULL, NULL, NULL, NULL, NULL
FROM (SELECT ev.id, ev.description, ev.status, ev.location, ev.occurred_at FROM tracking_events ev JOIN s ON ev.shipment_id = s.id
	ORDER BY ev.occurred_at DESC, ev.id LIMIT 20) e
UNION ALL
SELECT 2, row_number() OVER (ORDER BY f.uploaded_at, f.id), f.id, f.name, f.kind, f.content_type, NULL, NULL,
	NULL, NULL, NULL, f.uploaded_at, NULL, NULL, NULL, f.size, NULL
FROM files f JOIN s ON f.shipment_id = s.id
ORDER BY 1, 2`

type nullable struct {
	a, b, c, d, e  sql.NullString
	j1, j2, j3     []byte
	t1, t2, t3, t4 sql.NullTime
	n, m           sql.NullInt64
}

// ShipmentByReference answers workload (b).
func (s *Server) ShipmentByReference(ctx context.Context, reference string) ([]byte, error) {
	s.mainStmts.Add(1)
	q := byReferenceSQL
	if s.dialect == MySQL {
		q = byReferenceMySQL
	}
	rows, err := s.main.QueryContext(ctx, q, reference)
	if err != nil {
		return nil, fmt.Errorf("by reference: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var sh *nullable
	var shID int64
	var events, files []nullable
	var eventIDs, fileIDs []int64
	for rows.Next() {
		var k, ord, id int64
		var r nullable
		if err := rows.Scan(&k, &ord, &id, &r.a, &r.b, &r.c, &r.d, &r.e, &r.j1, &r.j2, &r.j3, &r.t1, &r.t2, &r.t3, &r.t4, &r.n, &r.m); err != nil {
			return nil, err
		}
		switch k {
		case 0:
			sh, shID = &r, id
		case 1:
			events, eventIDs = append(events, r), append(eventIDs, id)
		case 2:
			files, fileIDs = append(files, r), append(fileIDs, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	_ = rows.Close()
	if sh == nil {
		return []byte(`{"data":{"shipment":null}}`), nil
	}
	customers, err := s.customers(ctx, []int64{sh.m.Int64})
	if err != nil {
		return nil, err
	}
	var origin, destination domain.Address
	var parcels []domain.Parcel
	if err := errors.Join(json.Unmarshal(sh.j1, &origin), json.Unmarshal(sh.j2, &destination), json.Unmarshal(sh.j3, &parcels)); err != nil {
		return nil, fmt.Errorf("shipment %d JSON columns: %w", shID, err)
	}
	b := make([]byte, 0, 4<<10)
	b = append(b, `{"data":{"shipment":{"id":`...)
	b = quote(b, gid.New(gid.TypeShipment, int(shID)).String())
	b = append(b, `,"reference":`...)
	b = quote(b, sh.a.String)
	b = append(b, `,"status":`...)
	b = quote(b, sh.b.String)
	b = append(b, `,"carrier":`...)
	b = quote(b, sh.c.String)
	b = append(b, `,"serviceLevel":`...)
	b = quoteNull(b, sh.d)
	b = append(b, `,"trackingNumber":`...)
	b = quoteNull(b, sh.e)
	b = append(b, `,"origin":`...)
	b = appendAddress(b, origin)
	b = append(b, `,"destination":`...)
	b = appendAddress(b, destination)
	b = append(b, `,"parcels":[`...)
	for i, p := range parcels {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"weightGrams":`...)
		b = strconv.AppendInt(b, int64(p.WeightGrams), 10)
		b = append(b, `,"lengthMm":`...)
		b = strconv.AppendInt(b, int64(p.LengthMm), 10)
		b = append(b, `,"widthMm":`...)
		b = strconv.AppendInt(b, int64(p.WidthMm), 10)
		b = append(b, `,"heightMm":`...)
		b = strconv.AppendInt(b, int64(p.HeightMm), 10)
		b = append(b, '}')
	}
	b = append(b, `],"estimatedDeliveryAt":`...)
	b = appendNullTime(b, sh.t1)
	b = append(b, `,"deliveredAt":`...)
	b = appendNullTime(b, sh.t2)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, sh.n.Int64, 10)
	b = append(b, `,"createdAt":`...)
	b = appendNullTime(b, sh.t3)
	b = append(b, `,"updatedAt":`...)
	b = appendNullTime(b, sh.t4)
	b = append(b, `,"customer":`...)
	if c := customers[sh.m.Int64]; c == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"id":`...)
		b = quote(b, gid.New(gid.TypeCustomer, int(sh.m.Int64)).String())
		b = append(b, `,"name":`...)
		b = quote(b, c.name)
		b = append(b, `,"code":`...)
		b = quote(b, c.code)
		b = append(b, `,"city":`...)
		b = quote(b, c.city)
		b = append(b, `,"email":`...)
		b = quote(b, c.email)
		b = append(b, `,"phone":`...)
		b = quote(b, c.phone)
		b = append(b, `,"country":`...)
		b = appendCountry(b, c)
		b = append(b, '}')
	}
	b = append(b, `,"events":{"edges":[`...)
	for i, e := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"node":{"id":`...)
		b = quote(b, gid.New(gid.TypeTrackingEvent, int(eventIDs[i])).String())
		b = append(b, `,"status":`...)
		b = quote(b, e.b.String)
		b = append(b, `,"occurredAt":`...)
		b = appendNullTime(b, e.t1)
		b = append(b, `,"description":`...)
		b = quoteNull(b, e.a)
		b = append(b, `,"location":`...)
		if e.j1 == nil || string(e.j1) == "null" {
			b = append(b, "null"...)
		} else {
			var l domain.Location
			if err := json.Unmarshal(e.j1, &l); err != nil {
				return nil, fmt.Errorf("event %d location: %w", eventIDs[i], err)
			}
			b = append(b, `{"city":`...)
			b = quotePtr(b, l.City)
			b = append(b, `,"countryCode":`...)
			b = quotePtr(b, l.CountryCode)
			b = append(b, '}')
		}
		b = append(b, "}}"...)
	}
	b = append(b, `]},"files":[`...)
	for i, f := range files {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = quote(b, gid.New(gid.TypeFile, int(fileIDs[i])).String())
		b = append(b, `,"kind":`...)
		b = quote(b, f.b.String)
		b = append(b, `,"name":`...)
		b = quote(b, f.a.String)
		b = append(b, `,"contentType":`...)
		b = quote(b, f.c.String)
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, f.n.Int64, 10)
		b = append(b, `,"uploadedAt":`...)
		b = appendNullTime(b, f.t1)
		b = append(b, '}')
	}
	b = append(b, "]}}}"...)
	return b, nil
}

func appendAddress(b []byte, a domain.Address) []byte {
	b = append(b, `{"name":`...)
	b = quote(b, a.Name)
	b = append(b, `,"company":`...)
	b = quotePtr(b, a.Company)
	b = append(b, `,"line1":`...)
	b = quote(b, a.Line1)
	b = append(b, `,"line2":`...)
	b = quotePtr(b, a.Line2)
	b = append(b, `,"city":`...)
	b = quote(b, a.City)
	b = append(b, `,"postalCode":`...)
	b = quote(b, a.PostalCode)
	b = append(b, `,"countryCode":`...)
	b = quote(b, a.CountryCode)
	return append(b, '}')
}

func appendCountry(b []byte, c *customer) []byte {
	if !c.hasCountry {
		return append(b, "null"...)
	}
	b = append(b, `{"code":`...)
	b = quote(b, c.countryCode)
	b = append(b, `,"label":`...)
	b = quote(b, c.countryLabel)
	return append(b, '}')
}

// appendTime writes t as gqlgen's Time scalar does (RFC 3339, nanoseconds
// without trailing zeros, in UTC as the app stores it).
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendNullTime(b []byte, t sql.NullTime) []byte {
	if !t.Valid || t.Time.IsZero() {
		return append(b, "null"...)
	}
	return appendTime(b, t.Time)
}

func quoteNull(b []byte, s sql.NullString) []byte {
	if !s.Valid {
		return append(b, "null"...)
	}
	return quote(b, s.String)
}

// quotePtr is quote of an optional value: null when absent.
func quotePtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return quote(b, *s)
}

const hexDigits = "0123456789abcdef"

// quote writes s as a JSON string the way the app's responses have it:
// gqlgen's String scalar escapes quotes, backslashes and control characters
// only (the app writes gqlgen's output as it is: no HTML escaping).
func quote(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		case '\n':
			b = append(b, `\n`...)
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		default:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
