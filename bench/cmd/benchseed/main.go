// Command benchseed creates the data set of the benchmark of issue 9 (see
// docs/BENCHMARKS.md): it drops and recreates the databases named by its DSNs,
// applies the app's migrations, fills Dolibarr with 2,000 customers and the
// main database with 10,000 shipments, 50,000 tracking events and 20,000 file
// records (deterministically), copies the customers and countries into the
// PostgreSQL schema peer for PostGraphile, creates an ADMIN API key and
// writes its secret to -key-file.
//
//	go run ./bench/cmd/benchseed \
//	  -pg 'postgres://root@127.0.0.1:5432/shipmentapp_bench?sslmode=disable' \
//	  -dolibarr 'root@tcp(127.0.0.1:3306)/shipmentapp_bench_dolibarr' \
//	  [-mysql 'root@tcp(127.0.0.1:3306)/shipmentapp_bench'] -key-file bench/.key
//
// Its bulk mode (-copy) writes PostgreSQL with COPY (pgx CopyFrom) instead
// of INSERTs, for the data set of make bench-scale (issue 17: 1,000,000
// shipments, 5,000,000 tracking events, 2,000,000 files over five years):
//
//	go run ./bench/cmd/benchseed -copy -years 5 -customers 20000 \
//	  -shipments 1000000 -events 5000000 -files 2000000 \
//	  -pg 'postgres://root@127.0.0.1:5432/shipmentapp_scale?sslmode=disable' \
//	  -dolibarr 'root@tcp(127.0.0.1:3306)/shipmentapp_scale_dolibarr' -key-file bench/.key.scale-large
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/shipmentapp/shipmentapp/bench/internal/seed"
	"github.com/shipmentapp/shipmentapp/internal/config"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("benchseed: ")
	o := seed.DefaultOptions()
	pgDSN := flag.String("pg", "", "main PostgreSQL database URL (dropped and recreated)")
	mysqlDSN := flag.String("mysql", "", "optional main MariaDB/MySQL database DSN (dropped and recreated, same data)")
	dolibarrDSN := flag.String("dolibarr", "", "Dolibarr MariaDB/MySQL database DSN (dropped and recreated)")
	keyFile := flag.String("key-file", "bench/.key", "where to write the ADMIN API key's secret (one per main database: the MySQL one gets .mysql appended)")
	flag.IntVar(&o.Customers, "customers", o.Customers, "visible Dolibarr customers")
	flag.IntVar(&o.Shipments, "shipments", o.Shipments, "shipments")
	flag.IntVar(&o.Events, "events", o.Events, "tracking events")
	flag.IntVar(&o.Files, "files", o.Files, "file records")
	flag.IntVar(&o.Years, "years", 1, "years of history the shipments spread over, ending at -until")
	bulk := flag.Bool("copy", false, "bulk mode: write the PostgreSQL database with COPY (secondary indexes built after the rows), for millions of rows")
	until := flag.String("until", o.Until.Format(time.RFC3339), "the seeded year ends at this instant")
	flag.Parse()
	if *pgDSN == "" || *dolibarrDSN == "" {
		flag.Usage()
		os.Exit(2)
	}
	var err error
	if o.Until, err = time.Parse(time.RFC3339, *until); err != nil {
		log.Fatalf("-until: %v", err)
	}
	if o.Until.After(time.Now()) {
		log.Fatalf("-until %s is in the future: events must be in the past", *until)
	}
	if err := run(context.Background(), *pgDSN, *mysqlDSN, *dolibarrDSN, *keyFile, o, *bulk); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, pgDSN, mysqlDSN, dolibarrDSN, keyFile string, o seed.Options, bulk bool) error {
	start := time.Now()
	step := func(what string, t time.Time) { fmt.Printf("%-44s %6.2fs\n", what, time.Since(t).Seconds()) }

	t := time.Now()
	dName, dAdmin, dNorm, err := seed.MySQLDSN(dolibarrDSN)
	if err != nil {
		return fmt.Errorf("-dolibarr: %w", err)
	}
	if err := seed.Recreate(ctx, "mysql", dAdmin, dName); err != nil {
		return err
	}
	dol, err := sql.Open("mysql", dNorm)
	if err != nil {
		return err
	}
	defer func() { _ = dol.Close() }()
	customers, err := seed.Dolibarr(ctx, dol, o.Customers)
	if err != nil {
		return fmt.Errorf("dolibarr: %w", err)
	}
	if err := seed.Analyze(ctx, dol, false, "llx_societe", "llx_c_country", "llx_socpeople", "llx_c_shipment_mode"); err != nil {
		return err
	}
	step(fmt.Sprintf("dolibarr %s: %d customers", dName, len(customers)), t)

	t = time.Now()
	data, err := seed.Generate(customers, o)
	if err != nil {
		return err
	}
	step("generate", t)

	type target struct {
		driver, dsn, keyFile string
	}
	targets := []target{{config.DriverPostgres, pgDSN, keyFile}}
	if mysqlDSN != "" {
		targets = append(targets, target{config.DriverMySQL, mysqlDSN, keyFile + ".mysql"})
	}
	for _, tg := range targets {
		t = time.Now()
		postgres := tg.driver == config.DriverPostgres
		var name, admin, norm, driverName string
		if postgres {
			driverName = "pgx"
			name, admin, norm, err = seed.PostgresDSN(tg.dsn)
		} else {
			driverName = "mysql"
			name, admin, norm, err = seed.MySQLDSN(tg.dsn)
		}
		if err != nil {
			return err
		}
		if err := seed.Recreate(ctx, driverName, admin, name); err != nil {
			return err
		}
		main, err := sql.Open(driverName, norm)
		if err != nil {
			return err
		}
		defer func() { _ = main.Close() }()
		main.SetMaxOpenConns(2)
		if err := seed.Migrate(ctx, main, tg.driver); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		step(fmt.Sprintf("%s %s: recreate and migrate", tg.driver, name), t)
		t = time.Now()
		if postgres && bulk {
			err = seed.MainCopy(ctx, main, data, func(what string, took time.Duration) {
				fmt.Printf("  %-42s %6.2fs\n", what, took.Seconds())
			})
		} else {
			err = seed.Main(ctx, main, postgres, data)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		step(fmt.Sprintf("%s %s: insert", tg.driver, name), t)
		t = time.Now()
		if postgres {
			if err := seed.Peer(ctx, main, customers); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		secret, err := seed.CreateKey(ctx, main, tg.driver)
		if err != nil {
			return fmt.Errorf("%s: api key: %w", name, err)
		}
		if err := os.MkdirAll(filepath.Dir(tg.keyFile), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(tg.keyFile, []byte(secret+"\n"), 0o600); err != nil {
			return err
		}
		tables := []string{"shipments", "tracking_events", "files", "sequences", "api_keys"}
		if postgres {
			tables = append(tables, "peer.customers", "peer.countries")
		}
		if err := seed.Analyze(ctx, main, postgres, tables...); err != nil {
			return fmt.Errorf("%s: analyze: %w", name, err)
		}
		if postgres && bulk {
			// Rows COPY wrote are not yet all-visible: vacuum sets the
			// visibility map (index-only scans), as years of history
			// would have it.
			if _, err := main.ExecContext(ctx, "VACUUM shipments, tracking_events, files"); err != nil {
				return fmt.Errorf("%s: vacuum: %w", name, err)
			}
		}
		what := "peer, key, analyze"
		if postgres && bulk {
			what += ", vacuum"
		}
		step(fmt.Sprintf("%s %s: %s", tg.driver, name, what), t)
		counts := map[string]int{}
		for _, tbl := range []string{"shipments", "tracking_events", "files"} {
			var n int
			if err := main.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tbl).Scan(&n); err != nil {
				return err
			}
			counts[tbl] = n
		}
		fmt.Printf("%s %s: %d shipments, %d tracking events, %d files; ADMIN key in %s\n",
			tg.driver, name, counts["shipments"], counts["tracking_events"], counts["files"], tg.keyFile)
	}
	byStatus := map[string]int{}
	for _, s := range data.Shipments {
		byStatus[string(s.Status)]++
	}
	fmt.Printf("statuses: %v\n", byStatus)
	step("total", start)
	return nil
}
