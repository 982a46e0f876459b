// Command shipments is a small typed client of the shipmentapp GraphQL API,
// written to be copied: it lists shipments page by page, creates one, and
// records a tracking event, through the code genqlient generates from
// shipmentapi/*.graphql, and turns the API's error codes into messages and
// exit statuses.
//
//	SHIPMENTAPP_API_KEY=sa_… go run . list -status IN_TRANSIT,OUT_FOR_DELIVERY
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/Khan/genqlient/graphql"

	"github.com/shipmentapp/shipmentapp/examples/go/shipmentapi"
)

// Exit statuses, one per thing a caller may do about a failure.
const (
	exitOK       = 0
	exitFailed   = 1 // anything else: transport, server, timeout
	exitUsage    = 2 // the command line or the input is wrong (BAD_USER_INPUT too)
	exitAuth     = 3 // the key is refused or its role may not (UNAUTHENTICATED, FORBIDDEN)
	exitNotFound = 4 // NOT_FOUND
	exitConflict = 5 // CONFLICT, INVALID_TRANSITION: reload and decide again
)

const usage = `usage: shipments [-url URL] [-timeout D] COMMAND [flags]

The API key is read from SHIPMENTAPP_API_KEY, the endpoint from -url or
SHIPMENTAPP_URL (default http://127.0.0.1:8080/graphql).

Commands:
  list   [-status S,S…] [-carrier C] [-page-size N]
         every matching shipment, oldest first, paging by cursor
  create [-input FILE]
         create a shipment from a CreateShipmentInput in JSON (default: stdin)
  track  -shipment ID -status S [-at RFC3339] [-description D] [-city C] [-country CC]
         record a tracking event, which moves the shipment's status
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	global := flag.NewFlagSet("shipments", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = func() { fmt.Fprint(stderr, usage) }
	endpoint := global.String("url", envOr("SHIPMENTAPP_URL", "http://127.0.0.1:8080/graphql"), "the GraphQL endpoint")
	timeout := global.Duration("timeout", time.Minute, "bound on the whole command (every page of a list)")
	if err := global.Parse(args); err != nil {
		return exitUsage
	}
	if global.NArg() == 0 {
		global.Usage()
		return exitUsage
	}
	client, err := shipmentapi.NewClient(*endpoint, os.Getenv("SHIPMENTAPP_API_KEY"), shipmentapi.Options{
		Timeout:   30 * time.Second,
		UserAgent: "shipments-example/1",
	})
	if err != nil {
		fmt.Fprintln(stderr, "shipments: set SHIPMENTAPP_API_KEY to an API key (shipmentapp apikey create --role STAFF …):", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	cmd, rest := global.Arg(0), global.Args()[1:]
	switch cmd {
	case "list":
		err = list(ctx, client, rest, stdout)
	case "create":
		err = create(ctx, client, rest, stdin, stdout)
	case "track":
		err = track(ctx, client, rest, stdout)
	default:
		fmt.Fprintf(stderr, "shipments: unknown command %q\n", cmd)
		global.Usage()
		return exitUsage
	}
	if err != nil {
		return explain(err, stderr)
	}
	return exitOK
}

func list(ctx context.Context, client graphql.Client, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	statuses := fs.String("status", "", "only these statuses, comma-separated (e.g. IN_TRANSIT,OUT_FOR_DELIVERY)")
	carrier := fs.String("carrier", "", "only this carrier")
	pageSize := fs.Int("page-size", 50, "shipments per request, 1 to 100")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	// A nil field is no filter (sent as null); never an empty list, which
	// the server reads as "matches nothing".
	var where *shipmentapi.ShipmentWhereInput
	if *statuses != "" || *carrier != "" {
		where = &shipmentapi.ShipmentWhereInput{}
		if *statuses != "" {
			for _, s := range strings.Split(*statuses, ",") {
				where.StatusIn = append(where.StatusIn, shipmentapi.ShipmentStatus(strings.ToUpper(strings.TrimSpace(s))))
			}
		}
		if *carrier != "" {
			where.Carrier = carrier
		}
	}
	paging, err := shipmentapi.ForEachShipment(ctx, client, where, *pageSize, func(s *shipmentapi.ShipmentSummary) error {
		_, err := fmt.Fprintf(stdout, "%-16s %-20s %-10s %s, %s\t%s\n", s.Reference, s.Status, s.Carrier, s.Destination.City, s.Destination.CountryCode, s.Id)
		return err
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%d shipments (totalCount %d) in %d pages\n", paging.Seen, paging.TotalCount, paging.Pages)
	return err
}

func create(ctx context.Context, client graphql.Client, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	file := fs.String("input", "-", "a JSON CreateShipmentInput (- for stdin)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	in := stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return usageError{err}
		}
		defer f.Close()
		in = f
	}
	var input shipmentapi.CreateShipmentInput
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields() // a misspelt field fails here, not silently
	if err := dec.Decode(&input); err != nil {
		return usageError{fmt.Errorf("read the CreateShipmentInput: %w", err)}
	}
	resp, err := shipmentapi.CreateShipment(ctx, client, input)
	if err != nil {
		return fmt.Errorf("create shipment: %w", err)
	}
	s := resp.CreateShipment
	_, err = fmt.Fprintf(stdout, "created %s %s version %d\t%s\n", s.Reference, s.Status, s.Version, s.Id)
	return err
}

func track(ctx context.Context, client graphql.Client, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("track", flag.ContinueOnError)
	id := fs.String("shipment", "", "the shipment's global ID (required)")
	status := fs.String("status", "", "the status it moves to (required)")
	at := fs.String("at", "", "when it happened, RFC 3339 (default: now)")
	description := fs.String("description", "", "the carrier's words")
	city := fs.String("city", "", "where it happened: city")
	country := fs.String("country", "", "where it happened: ISO 3166-1 alpha-2 country code")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *id == "" || *status == "" {
		return usageError{errors.New("track needs -shipment and -status")}
	}
	input := shipmentapi.TrackingEventInput{
		Status:     shipmentapi.ShipmentStatus(strings.ToUpper(*status)),
		OccurredAt: time.Now().UTC().Truncate(time.Second),
	}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usageError{fmt.Errorf("-at: %w", err)}
		}
		input.OccurredAt = t
	}
	if *description != "" {
		input.Description = description
	}
	if *city != "" || *country != "" {
		input.Location = &shipmentapi.LocationInput{City: optional(*city), CountryCode: optional(*country)}
	}
	resp, err := shipmentapi.AddTrackingEvent(ctx, client, *id, input)
	if err != nil {
		return fmt.Errorf("add tracking event: %w", err)
	}
	s := resp.AddTrackingEvent.Shipment
	_, err = fmt.Fprintf(stdout, "%s is %s (version %d); next: %s\n", s.Reference, s.Status, s.Version, joinStatuses(s.NextStatuses))
	return err
}

// explain prints what went wrong, acting on the error's extensions.code,
// and returns the exit status.
func explain(err error, stderr io.Writer) int {
	var usageErr usageError
	if errors.As(err, &usageErr) {
		fmt.Fprintln(stderr, "shipments:", usageErr.err)
		return exitUsage
	}
	gqlErrs := shipmentapi.Errors(err)
	if len(gqlErrs) == 0 {
		// No answer, or not a GraphQL one: the network, a timeout, a proxy.
		if errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintln(stderr, "shipments: timed out (raise -timeout):", err)
		} else {
			fmt.Fprintln(stderr, "shipments:", err)
		}
		return exitFailed
	}
	first := gqlErrs[0]
	switch code := shipmentapi.Code(first); code {
	case shipmentapi.CodeUnauthenticated:
		fmt.Fprintln(stderr, "shipments: UNAUTHENTICATED: the server refused the API key (revoked, expired or mistyped): check SHIPMENTAPP_API_KEY")
		return exitAuth
	case shipmentapi.CodeForbidden:
		fmt.Fprintf(stderr, "shipments: FORBIDDEN: this key's role may not do that (%s)\n", first.Message)
		return exitAuth
	case shipmentapi.CodeNotFound:
		fmt.Fprintf(stderr, "shipments: NOT_FOUND: no such shipment, or not one this key may see (%s)\n", first.Message)
		return exitNotFound
	case shipmentapi.CodeInvalidTransition:
		fmt.Fprintf(stderr, "shipments: INVALID_TRANSITION: %v may not follow %v; allowed next: %s\n",
			first.Extensions["to"], first.Extensions["from"], joinAny(first.Extensions["allowed"]))
		return exitConflict
	case shipmentapi.CodeConflict:
		fmt.Fprintf(stderr, "shipments: CONFLICT: %s (nothing was written: reload and try again)\n", first.Message)
		return exitConflict
	case shipmentapi.CodeBadUserInput, shipmentapi.CodeValidationFailed:
		for _, e := range gqlErrs {
			if field, ok := e.Extensions["field"]; ok {
				fmt.Fprintf(stderr, "shipments: %s: %v: %s\n", shipmentapi.Code(e), field, e.Message)
			} else {
				fmt.Fprintf(stderr, "shipments: %s: %s\n", shipmentapi.Code(e), e.Message)
			}
		}
		return exitUsage
	case shipmentapi.CodePersistedQueryNotAllowed:
		fmt.Fprintln(stderr, "shipments: PERSISTED_QUERY_NOT_ALLOWED: the server runs an allowlist without this operation: import shipmentapi/persisted-manifest.json with `shipmentapp persisted import`")
		return exitFailed
	default:
		// RATE_LIMITED and UNAVAILABLE come with Retry-After; INTERNAL
		// carries extensions.requestId for the server's logs.
		fmt.Fprintf(stderr, "shipments: %s: %s", code, first.Message)
		if id, ok := first.Extensions["requestId"]; ok {
			fmt.Fprintf(stderr, " (request id %v)", id)
		}
		fmt.Fprintln(stderr)
		return exitFailed
	}
}

// usageError is a mistake of the command line or its input.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func joinStatuses(statuses []shipmentapi.ShipmentStatus) string {
	if len(statuses) == 0 {
		return "none (final)"
	}
	parts := make([]string, len(statuses))
	for i, s := range statuses {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

func joinAny(v any) string {
	list, _ := v.([]any)
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = fmt.Sprint(s)
	}
	return strings.Join(parts, ", ")
}
