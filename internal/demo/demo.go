// Package demo seeds realistic demo shipments with tracking histories into an
// empty database, for the embedded default and for exploring the playground.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shipmentapp/shipmentapp/ent"
	"github.com/shipmentapp/shipmentapp/ent/customer"
	"github.com/shipmentapp/shipmentapp/internal/dolibarr"
	"github.com/shipmentapp/shipmentapp/internal/domain"
	"github.com/shipmentapp/shipmentapp/internal/shipping"
	"github.com/shipmentapp/shipmentapp/internal/viewer"
)

// DefaultShipments is how many shipments a first start seeds.
const DefaultShipments = 200

// Carrier is a carrier of the demo data: its name, a service level and the
// prefix of its tracking numbers.
type Carrier struct {
	Name, Service, Prefix string
}

// Carriers and Warehouses are the carriers and origins of the demo data (the
// embedded default's and the benchmark's).
var Carriers = []Carrier{
	{"UPS", "Standard", "1Z"},
	{"DHL", "Express Worldwide", "JD"},
	{"GLS", "BusinessParcel", "GL"},
	{"Colissimo", "Domicile sans signature", "6A"},
	{"DPD", "Classic", "DP"},
	{"FedEx", "International Priority", "FX"},
}

var Warehouses = []domain.Address{
	{Name: "Dispatch team", Company: domain.TextOf("Shipmentapp Fulfilment Lyon"), Line1: "140 avenue Jean Mermoz", City: "Lyon", PostalCode: "69008", CountryCode: "FR", Phone: domain.TextOf("+33 4 72 00 00 00")},
	{Name: "Versand", Company: domain.TextOf("Shipmentapp Fulfilment Köln"), Line1: "Robert-Bosch-Straße 9", City: "Köln", PostalCode: "50769", CountryCode: "DE", Phone: domain.TextOf("+49 221 000 000")},
}

// Hubs are the places a parcel passes through.
var Hubs = []domain.Location{
	hub("Paris", "Île-de-France", "95700", "FR"),
	hub("Köln", "Nordrhein-Westfalen", "51147", "DE"),
	hub("Liège", "Wallonie", "4460", "BE"),
	hub("Leipzig", "Sachsen", "04435", "DE"),
	hub("Madrid", "Comunidad de Madrid", "28042", "ES"),
	hub("Milano", "Lombardia", "20054", "IT"),
	hub("East Midlands", "Leicestershire", "DE74 2SA", "GB"),
	hub("Louisville", "Kentucky", "40209", "US"),
}

func hub(city, region, postalCode, countryCode string) domain.Location {
	return domain.Location{City: &city, Region: &region, PostalCode: &postalCode, CountryCode: &countryCode}
}

// Seed creates n shipments if the database has none. It goes through the
// shipping service, so every seeded history obeys the state machine.
func Seed(ctx context.Context, client *ent.Client, d *dolibarr.Client, n int) (int, error) {
	count, err := client.Shipment.Query().Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count shipments: %w", err)
	}
	if count > 0 {
		return 0, nil
	}
	customers, err := d.Customers().Where(customer.Status(1)).Order(customer.ByID()).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("load demo customers: %w", err)
	}
	if len(customers) == 0 {
		return 0, fmt.Errorf("no active customers in Dolibarr to seed shipments for")
	}
	countries, err := d.Countries().All(ctx)
	if err != nil {
		return 0, fmt.Errorf("load countries: %w", err)
	}
	codes := make(map[int]string, len(countries))
	for _, c := range countries {
		codes[c.ID] = c.Code
	}
	ctx = viewer.NewContext(ctx, viewer.System("demo-seed"))
	rng := rand.New(rand.NewPCG(20261122, 42))
	start := time.Now().UTC().Add(-90 * 24 * time.Hour).Truncate(time.Minute)
	var clock time.Time
	svc := shipping.New(client, d, shipping.WithClock(func() time.Time { return clock }))
	for i := range n {
		created := start.Add(time.Duration(i) * 90 * 24 * time.Hour / time.Duration(n)).Add(time.Duration(rng.IntN(300)) * time.Minute)
		clock = created
		if err := seedOne(ctx, svc, rng, customers[rng.IntN(len(customers))], codes, i, &clock); err != nil {
			return i, err
		}
	}
	return n, nil
}

// Parcels returns one to three parcels of plausible weights and sizes.
func Parcels(rng *rand.Rand) []domain.Parcel {
	parcels := make([]domain.Parcel, 1+rng.IntN(3))
	for p := range parcels {
		parcels[p] = domain.Parcel{WeightGrams: 200 + rng.IntN(15000), LengthMm: 150 + rng.IntN(450), WidthMm: 100 + rng.IntN(300), HeightMm: 50 + rng.IntN(300)}
	}
	return parcels
}

func seedOne(ctx context.Context, svc *shipping.Service, rng *rand.Rand, cu *ent.Customer, countries map[int]string, i int, clock *time.Time) error {
	c := Carriers[rng.IntN(len(Carriers))]
	tracking := fmt.Sprintf("%s%010d", c.Prefix, rng.Int64N(1e10))
	eta := clock.Add(time.Duration(2+rng.IntN(6)) * 24 * time.Hour)
	parcels := Parcels(rng)
	ref := fmt.Sprintf("DEMO-%04d", i+1)
	sh, err := svc.Create(ctx, shipping.CreateInput{
		CustomerID: cu.ID, Carrier: c.Name, ServiceLevel: c.Service, TrackingNumber: &tracking,
		Origin: Warehouses[rng.IntN(len(Warehouses))],
		Destination: domain.Address{
			Name: "Receiving", Company: domain.TextOf(cu.Name), Line1: orDefault(cu.Address, "1 Main Street"),
			City: orDefault(cu.City, "Paris"), PostalCode: orDefault(cu.PostalCode, "75001"),
			CountryCode: orDefault(domain.TextOf(countries[cu.CountryID]), "FR"), Phone: cu.Phone, Email: cu.Email,
		},
		Parcels: parcels, EstimatedDeliveryAt: &eta, Reference: &ref,
	})
	if err != nil {
		return fmt.Errorf("seed shipment %s: %w", ref, err)
	}
	for _, step := range history(rng) {
		*clock = clock.Add(time.Duration(2+rng.IntN(20)) * time.Hour)
		if clock.After(time.Now()) {
			break
		}
		_, err := svc.AddEvent(ctx, sh.ID, shipping.EventInput{
			Status: step.status, OccurredAt: *clock, Description: step.description,
			Location: &Hubs[rng.IntN(len(Hubs))], Source: "carrier",
		})
		if err != nil {
			return fmt.Errorf("seed event %s for %s: %w", step.status, ref, err)
		}
	}
	return nil
}

type step struct {
	status      domain.Status
	description string
}

// history returns a plausible sequence of events; some shipments stop early
// so the demo has every status.
func history(rng *rand.Rand) []step {
	steps := []step{
		{domain.StatusLabelCreated, "Shipping label created"},
		{domain.StatusInTransit, "Picked up by carrier"},
		{domain.StatusInTransit, "Arrived at sort facility"},
	}
	switch r := rng.IntN(20); {
	case r == 0:
		return []step{{domain.StatusCancelled, "Cancelled by customer"}}
	case r == 1:
		return steps[:1]
	case r == 2:
		return append(steps, step{domain.StatusException, "Address incomplete, carrier contacting recipient"})
	case r == 3:
		return append(steps, step{domain.StatusAvailableForPickup, "Held at pickup point"})
	case r == 4:
		return append(steps, step{domain.StatusException, "Recipient refused delivery"}, step{domain.StatusReturned, "Returned to sender"})
	case r < 7:
		return steps
	case r < 10:
		return append(steps, step{domain.StatusOutForDelivery, "Out for delivery"})
	default:
		return append(steps, step{domain.StatusOutForDelivery, "Out for delivery"}, step{domain.StatusDelivered, "Delivered, signed by recipient"})
	}
}

func orDefault(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
