// Package seed generates and writes the benchmark data set of issue 9:
// Dolibarr customers, shipments with their tracking histories and file
// records, deterministically (fixed RNG seeds), through the column sets the
// migrations create. Command benchseed drives it; the ceiling's tests reuse it
// with smaller counts.
package seed

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/shipmentapp/shipmentapp/internal/demo"
	"github.com/shipmentapp/shipmentapp/internal/dolibarr"
	"github.com/shipmentapp/shipmentapp/internal/domain"
)

// Actor is the created_by/updated_by of every seeded row.
const Actor = "system:benchseed"

// DefaultUntil is the instant the seeded year ends at: every timestamp is
// before it, so the data set is the same whatever the day it is seeded.
var DefaultUntil = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Options size the data set.
type Options struct {
	Customers int // visible Dolibarr customers in total (demo ones included)
	Shipments int
	Events    int // tracking events in total (about 5 a shipment)
	Files     int // file records in total (about 2 a shipment)
	// Until is when the seeded year ends (DefaultUntil when zero).
	Until time.Time
	// Years of history the shipments' creation times spread over, ending
	// at Until (1 when zero).
	Years int
}

// DefaultOptions is the data set of the benchmark.
func DefaultOptions() Options {
	return Options{Customers: 2000, Shipments: 10000, Events: 50000, Files: 20000, Until: DefaultUntil}
}

// Customer is a generated (or demo) llx_societe row.
type Customer struct {
	ID                 int
	Name, Code         string
	Address, Zip, Town string
	CountryID          int
	Phone, Email       string
}

// Shipment is a row of shipments.
type Shipment struct {
	ID                    int
	Reference             string
	CustomerID            int
	Status                domain.Status
	Carrier, ServiceLevel string
	TrackingNumber        string
	Origin, Destination   []byte // JSON of domain.Address
	Parcels               []byte // JSON of []domain.Parcel
	EstimatedDeliveryAt   time.Time
	DeliveredAt           *time.Time
	CancelReason          *string
	Version               int
	CreatedAt, UpdatedAt  time.Time
}

// Event is a row of tracking_events.
type Event struct {
	ID, Seq     int64
	ShipmentID  int
	Status      domain.Status
	OccurredAt  time.Time
	Description string
	Location    []byte // JSON of domain.Location
	CreatedAt   time.Time
}

// File is a row of files.
type File struct {
	ID          int
	ShipmentID  int
	Kind        string
	Name        string
	ContentType string
	Size        int64
	SHA256      string
	StorageKey  string
	UploadedAt  time.Time
}

// Data is a generated data set.
type Data struct {
	Customers []Customer // the visible customers, by rowid
	Shipments []Shipment
	Events    []Event // in seq order
	Files     []File
}

type countryData struct {
	id      int
	trades  []string
	names   []string
	legal   []string
	towns   [][2]string // town, zip
	streets []string
	phone   string
	tld     string
}

var countries = []countryData{
	{1, []string{"Boulangerie", "Atelier", "Librairie", "Fromagerie", "Cave", "Optique", "Menuiserie", "Épicerie fine", "Quincaillerie", "Imprimerie", "Maroquinerie", "Torréfaction", "Savonnerie", "Pâtisserie", "Fleuriste"},
		[]string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine"},
		[]string{"SARL", "SAS", "& Fils", "", "SA", "EURL"},
		[][2]string{{"Paris", "75011"}, {"Lyon", "69003"}, {"Marseille", "13006"}, {"Toulouse", "31000"}, {"Nantes", "44000"}, {"Bordeaux", "33000"}, {"Lille", "59000"}, {"Rennes", "35000"}, {"Strasbourg", "67000"}, {"Montpellier", "34000"}, {"Grenoble", "38000"}, {"Dijon", "21000"}, {"Angers", "49000"}, {"Tours", "37000"}, {"Annecy", "74000"}},
		[]string{"rue de la République", "avenue Victor Hugo", "boulevard Voltaire", "rue des Lilas", "place du Marché", "rue Nationale", "quai des Chartrons"}, "+33 %d %02d %02d %02d %02d", "fr"},
	{2, []string{"Brasserie", "Chocolaterie", "Boulangerie", "Bakkerij", "Drukkerij", "Fietsen"},
		[]string{"Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Dubois", "Lambert", "Dupont"},
		[]string{"SPRL", "BV", "NV", "SA", ""},
		[][2]string{{"Bruxelles", "1000"}, {"Liège", "4000"}, {"Gent", "9000"}, {"Antwerpen", "2000"}, {"Namur", "5000"}, {"Brugge", "8000"}},
		[]string{"Rue Neuve", "Kouter", "Meir", "Rue Saint-Gilles", "Grand-Place"}, "+32 %d %03d %02d %02d", "be"},
	{3, []string{"Pastificio", "Ceramiche", "Moda", "Olivicola", "Caffè", "Tipografia", "Pelletteria", "Enoteca"},
		[]string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"},
		[]string{"Srl", "SpA", "Snc", ""},
		[][2]string{{"Milano", "20124"}, {"Roma", "00184"}, {"Torino", "10121"}, {"Firenze", "50122"}, {"Bologna", "40121"}, {"Napoli", "80133"}},
		[]string{"Via Roma", "Corso Buenos Aires", "Via dei Servi", "Via Garibaldi", "Piazza del Duomo"}, "+39 0%d %03d %04d", "it"},
	{4, []string{"Vinos", "Cerámica", "Librería", "Textiles", "Aceites", "Conservas", "Muebles"},
		[]string{"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Herrera", "Navarro"},
		[]string{"SL", "SA", ""},
		[][2]string{{"Madrid", "28004"}, {"Barcelona", "08001"}, {"València", "46002"}, {"Sevilla", "41001"}, {"Bilbao", "48001"}, {"Zaragoza", "50001"}},
		[]string{"Calle Mayor", "Calle de Alcalá", "Gran Vía", "Carrer de la Pau", "Paseo de Gracia"}, "+34 9%d %03d %02d %02d", "es"},
	{5, []string{"Bäckerei", "Feinmechanik", "Buchhandlung", "Naturkost", "Sportartikel", "Logistik", "Möbelwerkstatt", "Brauerei"},
		[]string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Krüger", "Hofmann"},
		[]string{"GmbH", "KG", "AG", "GmbH & Co. KG", ""},
		[][2]string{{"Berlin", "10999"}, {"Hamburg", "20457"}, {"München", "80802"}, {"Köln", "50667"}, {"Frankfurt am Main", "60313"}, {"Stuttgart", "70565"}, {"Leipzig", "04109"}, {"Düsseldorf", "40213"}},
		[]string{"Hauptstraße", "Bahnhofstraße", "Industriestraße", "Leopoldstraße", "Schillerstraße", "Gartenweg"}, "+49 %d %04d %04d", "de"},
	{6, []string{"Uhrenmanufaktur", "Fromagerie", "Chocolatier", "Confiserie"},
		[]string{"Müller", "Meier", "Schmid", "Keller", "Weber", "Favre", "Rochat"},
		[]string{"AG", "Sàrl", "SA", "GmbH"},
		[][2]string{{"Zürich", "8001"}, {"Genève", "1204"}, {"Basel", "4051"}, {"Lausanne", "1003"}, {"Bern", "3011"}},
		[]string{"Bahnhofstrasse", "Rue du Rhône", "Marktgasse", "Avenue de la Gare"}, "+41 %d %03d %02d %02d", "ch"},
	{7, []string{"Tea Company", "Wool Mills", "Candle Works", "Bookshop", "Cycles", "Pottery", "Gin Distillery"},
		[]string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans", "Thornbury", "Hughes"},
		[]string{"Ltd", "plc", "& Sons", ""},
		[][2]string{{"London", "SW3 4RP"}, {"Manchester", "M1 1AE"}, {"Bristol", "BS1 4DJ"}, {"Edinburgh", "EH1 1YZ"}, {"Leeds", "LS1 4DY"}, {"Glasgow", "G1 3SL"}},
		[]string{"High Street", "Kings Road", "Station Road", "Church Lane", "Bridge Street"}, "+44 %d %04d %04d", "co.uk"},
	{8, []string{"Crafts", "Knitwear", "Whiskey", "Bakery"},
		[]string{"Murphy", "Kelly", "O'Sullivan", "Walsh", "Byrne", "Ryan"},
		[]string{"Ltd", ""},
		[][2]string{{"Dublin", "D02 VP65"}, {"Cork", "T12 X70A"}, {"Galway", "H91 E2K3"}},
		[]string{"Grafton Street", "Patrick Street", "Shop Street"}, "+353 %d %03d %04d", "ie"},
	{11, []string{"Outfitters", "Coffee Roasters", "Leather Goods", "Supply Co.", "Trading", "Woodworks"},
		[]string{"Blue Ridge", "Harbor Light", "Sonoran", "Redwood", "Lakeside", "Summit", "Prairie", "Granite"},
		[]string{"Inc.", "LLC", "Co."},
		[][2]string{{"Portland", "04101"}, {"Asheville", "28801"}, {"Phoenix", "85004"}, {"Austin", "78701"}, {"Denver", "80202"}, {"Seattle", "98101"}},
		[]string{"Main Street", "Commercial Street", "Central Ave", "Oak Street", "Market Street"}, "+1 %d%02d 555 %04d", "com"},
	{14, []string{"Apiaries", "Paddle Co.", "Maple Syrup", "Outfitters"},
		[]string{"Maple Grove", "Great Lakes", "Northern", "Laurentian", "Pacific"},
		[]string{"Inc.", "Ltd", ""},
		[][2]string{{"Montréal", "H3G 1H6"}, {"Toronto", "M5J 2Y5"}, {"Vancouver", "V6B 1A1"}, {"Québec", "G1R 4P5"}},
		[]string{"Rue Sherbrooke O", "Queens Quay W", "Granville Street"}, "+1 %d%02d 555 %04d", "ca"},
	{17, []string{"Fietsen", "Kaasboerderij", "Design Studio", "Bloemen", "Drukkerij", "Koffiebranderij"},
		[]string{"de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder"},
		[]string{"BV", "NV", ""},
		[][2]string{{"Amsterdam", "1017 KH"}, {"Rotterdam", "3012 BP"}, {"Utrecht", "3511 AB"}, {"Gouda", "2801 AB"}, {"Eindhoven", "5611 AB"}},
		[]string{"Prinsengracht", "Dorpsstraat", "Witte de Withstraat", "Kerkstraat"}, "+31 %d %03d %04d", "nl"},
	{20, []string{"Möbler", "Knit", "Design", "Kaffe"},
		[]string{"Lindqvist", "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson"},
		[]string{"AB", ""},
		[][2]string{{"Stockholm", "111 36"}, {"Göteborg", "411 19"}, {"Malmö", "211 22"}, {"Uppsala", "753 20"}},
		[]string{"Drottninggatan", "Kungsgatan", "Storgatan"}, "+46 %d %02d %02d %02d", "se"},
	{25, []string{"Conservas", "Azulejos", "Vinhos", "Cortiça"},
		[]string{"Ferreira", "Silva", "Santos", "Costa", "Pereira", "Oliveira"},
		[]string{"Lda", "SA", ""},
		[][2]string{{"Lisboa", "1100-420"}, {"Porto", "4050-262"}, {"Braga", "4700-320"}, {"Coimbra", "3000-150"}},
		[]string{"Rua das Flores", "Rua da Prata", "Avenida da Liberdade"}, "+351 2%d %03d %02d %02d", "pt"},
	{27, []string{"Yachting", "Joaillerie"},
		[]string{"Riviera", "Grimaldi", "Monte"},
		[]string{"SAM", "SARL"},
		[][2]string{{"Monaco", "98000"}},
		[]string{"quai Antoine Ier", "boulevard des Moulins"}, "+377 %d %02d %02d %02d", "mc"},
}

// countryWeights: where customers are (France and its neighbours mostly).
var countryWeights = []int{30, 8, 9, 8, 14, 4, 8, 2, 5, 2, 5, 2, 2, 1}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func weighted(rng *rand.Rand, w []int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := rng.IntN(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}

// DemoCustomers returns the visible customers of the demo Dolibarr data set
// (entity 1, client 1 or 3) with their rowids.
func DemoCustomers() []Customer {
	var out []Customer
	for i, t := range dolibarr.DemoThirdParties() {
		if t.Entity != 1 || (t.Client != 1 && t.Client != 3) {
			continue
		}
		out = append(out, Customer{ID: i + 1, Name: t.Name, Code: t.Code, Address: t.Address, Zip: t.Zip,
			Town: t.Town, CountryID: t.CountryID, Phone: t.Phone, Email: t.Email})
	}
	return out
}

// GenerateCustomers returns n generated customers with rowids from first on.
func GenerateCustomers(first, n int) []Customer {
	rng := rand.New(rand.NewPCG(9, 1))
	out := make([]Customer, n)
	for i := range out {
		c := countries[weighted(rng, countryWeights)]
		trade, name, legal := pick(rng, c.trades), pick(rng, c.names), pick(rng, c.legal)
		var full string
		switch c.id {
		case 7, 8, 11, 14, 20, 17:
			full = name + " " + trade
		default:
			full = trade + " " + name
		}
		if legal != "" {
			full += " " + legal
		}
		town := pick(rng, c.towns)
		digits := []any{1 + rng.IntN(9), rng.IntN(100), rng.IntN(100), rng.IntN(100), rng.IntN(100)}
		phone := fmt.Sprintf(c.phone, digits[:strings.Count(c.phone, "%")]...)
		out[i] = Customer{
			ID: first + i, Name: full, Code: fmt.Sprintf("CU2402-%05d", i+1),
			Address: fmt.Sprintf("%d %s", 1+rng.IntN(200), pick(rng, c.streets)),
			Zip:     town[1], Town: town[0], CountryID: c.id, Phone: phone,
			Email: fmt.Sprintf("orders%d@%s.%s", i+1, slug(name+" "+trade), c.tld),
		}
	}
	return out
}

func slug(s string) string {
	var out []rune
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			out = append(out, r)
		case r >= 'A' && r <= 'Z':
			out = append(out, r+'a'-'A')
		case r == ' ' || r == '-':
			if len(out) > 0 && out[len(out)-1] != '-' {
				out = append(out, '-')
			}
		}
	}
	for len(out) > 0 && out[len(out)-1] == '-' {
		out = out[:len(out)-1]
	}
	return string(out)
}

// finalStatuses and their weights: a good share of shipments on their way.
var finalStatuses = []domain.Status{
	domain.StatusDraft, domain.StatusLabelCreated, domain.StatusInTransit, domain.StatusOutForDelivery,
	domain.StatusAvailableForPickup, domain.StatusException, domain.StatusDelivered, domain.StatusReturned, domain.StatusCancelled,
}
var finalWeights = []int{3, 7, 24, 12, 4, 3, 41, 3, 3}

var descriptions = map[domain.Status][]string{
	domain.StatusLabelCreated:       {"Shipping label created"},
	domain.StatusInTransit:          {"Picked up by carrier", "Arrived at sort facility", "Departed sort facility", "In transit to destination hub", "Arrived at destination hub"},
	domain.StatusOutForDelivery:     {"Out for delivery"},
	domain.StatusAvailableForPickup: {"Held at pickup point"},
	domain.StatusException:          {"Address incomplete, carrier contacting recipient", "Recipient absent, delivery rescheduled", "Recipient refused delivery"},
	domain.StatusDelivered:          {"Delivered, signed by recipient", "Delivered to front door"},
	domain.StatusReturned:           {"Returned to sender"},
	domain.StatusCancelled:          {"Cancelled by customer"},
}

// history returns the statuses of a shipment's events for a final status,
// each obeying the state machine of internal/domain.
func history(rng *rand.Rand, final domain.Status) []domain.Status {
	lc, it, ofd := domain.StatusLabelCreated, domain.StatusInTransit, domain.StatusOutForDelivery
	transit := func(lo, hi int) []domain.Status {
		out := []domain.Status{lc}
		for range lo + rng.IntN(hi-lo+1) {
			out = append(out, it)
		}
		return out
	}
	switch final {
	case domain.StatusDraft:
		return nil
	case lc:
		return []domain.Status{lc}
	case it:
		return transit(1, 5)
	case ofd:
		return append(transit(2, 4), ofd)
	case domain.StatusAvailableForPickup:
		return append(transit(2, 4), domain.StatusAvailableForPickup)
	case domain.StatusException:
		return append(transit(1, 3), domain.StatusException)
	case domain.StatusDelivered:
		h := transit(2, 4)
		if rng.IntN(8) == 0 {
			h = append(h, ofd, domain.StatusException)
		}
		return append(h, ofd, domain.StatusDelivered)
	case domain.StatusReturned:
		return append(transit(2, 3), domain.StatusException, domain.StatusReturned)
	case domain.StatusCancelled:
		if rng.IntN(2) == 0 {
			return []domain.Status{domain.StatusCancelled}
		}
		return []domain.Status{lc, domain.StatusCancelled}
	}
	return nil
}

// Generate returns the data set for customers (the visible ones).
func Generate(customers []Customer, o Options) (*Data, error) {
	if o.Until.IsZero() {
		o.Until = DefaultUntil
	}
	if len(customers) == 0 {
		return nil, fmt.Errorf("seed: no customers")
	}
	codes := map[int]string{}
	for _, c := range dolibarr.DemoCountries {
		codes[c.ID] = c.Code
	}
	rng := rand.New(rand.NewPCG(9, 2))
	start := o.Until.Add(-time.Duration(max(o.Years, 1)) * 365 * 24 * time.Hour)
	d := &Data{Customers: customers}
	histories := make([][]domain.Status, o.Shipments)
	for i := range histories {
		histories[i] = history(rng, finalStatuses[weighted(rng, finalWeights)])
	}
	if err := fitEvents(rng, histories, o.Events); err != nil {
		return nil, err
	}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
	span := o.Until.Sub(start)
	for i := range o.Shipments {
		cu := customers[rng.IntN(len(customers))]
		c := demo.Carriers[rng.IntN(len(demo.Carriers))]
		// Strictly increasing creation times, a few minutes of jitter apart.
		step := span / time.Duration(o.Shipments)
		created := start.Add(step * time.Duration(i)).
			Add(time.Duration(rng.Int64N(int64(step/2)) + 1)).
			Truncate(time.Microsecond)
		parcels := demo.Parcels(rng)
		dest := domain.Address{Name: "Receiving", Company: domain.TextOf(cu.Name), Line1: or(cu.Address, "1 Main Street"),
			City: or(cu.Town, "Paris"), PostalCode: or(cu.Zip, "75001"), CountryCode: or(codes[cu.CountryID], "FR"),
			Phone: domain.TextOf(cu.Phone), Email: domain.TextOf(cu.Email)}
		if rng.IntN(5) == 0 {
			dest.Line2 = domain.TextOf(fmt.Sprintf("Bâtiment %c", 'A'+rng.IntN(4)))
		}
		sh := Shipment{
			ID: i + 1, Reference: fmt.Sprintf("BENCH-%06d", i+1), CustomerID: cu.ID,
			Carrier: c.Name, ServiceLevel: c.Service,
			TrackingNumber: fmt.Sprintf("%s%06d%04d", c.Prefix, i+1, rng.IntN(10000)),
			Origin:         mustJSON(demo.Warehouses[rng.IntN(len(demo.Warehouses))]),
			Destination:    mustJSON(dest), Parcels: mustJSON(parcels),
			EstimatedDeliveryAt: created.Add(time.Duration(2+rng.IntN(6)) * 24 * time.Hour).Truncate(time.Hour),
			Status:              domain.StatusDraft, Version: 1, CreatedAt: created, UpdatedAt: created,
		}
		h := histories[i]
		// Events 2 to 20 hours apart, squeezed before Until if need be.
		gaps := make([]time.Duration, len(h))
		var total time.Duration
		for j := range gaps {
			gaps[j] = time.Duration(2*3600+rng.IntN(18*3600)) * time.Second
			total += gaps[j]
		}
		// Room for the events before Until (their created_at comes up to 10 minutes later).
		room := max(o.Until.Sub(created)-11*time.Minute, time.Minute)
		at := created
		for j, st := range h {
			g := gaps[j]
			if total > room {
				g = time.Duration(float64(g) * float64(room) / float64(total))
			}
			at = at.Add(g).Truncate(time.Microsecond)
			ev := Event{ShipmentID: sh.ID, Status: st, OccurredAt: at,
				Description: pick(rng, descriptions[st]),
				Location:    mustJSON(demo.Hubs[rng.IntN(len(demo.Hubs))]),
				CreatedAt:   at.Add(time.Duration(1+rng.IntN(600)) * time.Second).Truncate(time.Microsecond)}
			if st == domain.StatusOutForDelivery || st == domain.StatusDelivered || st == domain.StatusAvailableForPickup {
				ev.Location = mustJSON(domain.Location{City: &dest.City, PostalCode: &dest.PostalCode, CountryCode: &dest.CountryCode})
			}
			d.Events = append(d.Events, ev)
			sh.Status = st
			sh.Version++
			sh.UpdatedAt = ev.CreatedAt
			if st == domain.StatusDelivered {
				t := ev.OccurredAt
				sh.DeliveredAt = &t
			}
			if st == domain.StatusCancelled {
				r := "Cancelled by customer"
				sh.CancelReason = &r
			}
		}
		d.Shipments = append(d.Shipments, sh)
	}
	// seq and id follow the commit order (the events' created_at).
	slices.SortStableFunc(d.Events, func(a, b Event) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for i := range d.Events {
		d.Events[i].ID, d.Events[i].Seq = int64(i+1), int64(i+1)
	}
	d.Files = files(rng, d, o.Files)
	return d, nil
}

// fitEvents adds or removes repeated IN_TRANSIT scans until the histories
// hold want events in total.
func fitEvents(rng *rand.Rand, hs [][]domain.Status, want int) error {
	n := 0
	for _, h := range hs {
		n += len(h)
	}
	for tries := 0; n != want; tries++ {
		if tries > 100*len(hs)+want {
			return fmt.Errorf("seed: cannot fit %d events in %d shipments", want, len(hs))
		}
		i := rng.IntN(len(hs))
		h := hs[i]
		pos := slices.Index(h, domain.StatusInTransit)
		if pos < 0 {
			continue
		}
		if n < want {
			hs[i] = slices.Insert(h, pos, domain.StatusInTransit)
			n++
		} else if pos+1 < len(h) && h[pos+1] == domain.StatusInTransit {
			hs[i] = slices.Delete(h, pos, pos+1)
			n--
		}
	}
	return nil
}

// files returns want file records: a label for every shipment with a label,
// a proof of delivery for every delivered one, invoices for the rest.
func files(rng *rand.Rand, d *Data, want int) []File {
	eventsOf := map[int][]Event{}
	for _, e := range d.Events {
		eventsOf[e.ShipmentID] = append(eventsOf[e.ShipmentID], e)
	}
	var out []File
	add := func(sh Shipment, kind, name, ct string, at time.Time) {
		if len(out) >= want {
			return
		}
		key := at.UTC().Format("2006/01/02") + "/" + hexOf(fmt.Sprintf("%s/%s", sh.Reference, name))[:32]
		out = append(out, File{ShipmentID: sh.ID, Kind: kind, Name: name, ContentType: ct,
			Size: int64(8_000 + rng.IntN(400_000)), SHA256: hexOf(key), StorageKey: key, UploadedAt: at})
	}
	var invoiceable []Shipment
	for _, sh := range d.Shipments {
		evs := eventsOf[sh.ID]
		for _, e := range evs {
			if e.Status == domain.StatusLabelCreated {
				add(sh, "LABEL", "label-"+sh.Reference+".pdf", "application/pdf", e.CreatedAt.Add(-time.Minute))
			}
		}
		if sh.DeliveredAt != nil {
			ct, ext := "image/jpeg", ".jpg"
			if rng.IntN(3) == 0 {
				ct, ext = "application/pdf", ".pdf"
			}
			add(sh, "PROOF_OF_DELIVERY", "pod-"+sh.Reference+ext, ct, evs[len(evs)-1].CreatedAt.Add(time.Minute))
		}
		if len(evs) > 0 {
			invoiceable = append(invoiceable, sh)
		}
	}
	count := map[int]int{}
	for len(out) < want && len(invoiceable) > 0 {
		sh := invoiceable[rng.IntN(len(invoiceable))]
		count[sh.ID]++
		name := "invoice-" + sh.Reference + ".pdf"
		if count[sh.ID] > 1 {
			name = fmt.Sprintf("invoice-%s-%d.pdf", sh.Reference, count[sh.ID])
		}
		add(sh, "INVOICE", name, "application/pdf", sh.CreatedAt.Add(time.Duration(10+count[sh.ID]*7)*time.Minute))
	}
	slices.SortStableFunc(out, func(a, b File) int { return a.UploadedAt.Compare(b.UploadedAt) })
	for i := range out {
		out[i].ID = i + 1
	}
	return out
}

func hexOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
