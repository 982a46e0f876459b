package dolibarr

import (
	"fmt"
	"strings"
)

// Country is a row of the demo llx_c_country (Dolibarr's own rowids).
type Country struct {
	ID      int
	Code    string
	CodeISO string
	Label   string
	EEC     int
}

// DemoCountries are the countries of the demo dictionary, with Dolibarr's rowids.
var DemoCountries = []Country{
	{0, "", "", "-", 0},
	{1, "FR", "FRA", "France", 1},
	{2, "BE", "BEL", "Belgium", 1},
	{3, "IT", "ITA", "Italy", 1},
	{4, "ES", "ESP", "Spain", 1},
	{5, "DE", "DEU", "Germany", 1},
	{6, "CH", "CHE", "Switzerland", 0},
	{7, "GB", "GBR", "United Kingdom", 0},
	{8, "IE", "IRL", "Ireland", 1},
	{11, "US", "USA", "United States", 0},
	{14, "CA", "CAN", "Canada", 0},
	{17, "NL", "NLD", "Netherlands", 1},
	{20, "SE", "SWE", "Sweden", 1},
	{25, "PT", "PRT", "Portugal", 1},
	{27, "MC", "MCO", "Monaco", 0},
}

var demoShipmentModes = [][3]string{
	{"CATCH", "In-store collect", ""},
	{"TRANS", "Generic transport service", ""},
	{"COLSUI", "Colissimo Suivi", "https://www.laposte.fr/outils/suivre-vos-envois?code={TRACKID}"},
	{"UPS", "UPS", "https://www.ups.com/track?tracknum={TRACKID}"},
	{"DHL", "DHL", "https://www.dhl.com/en/express/tracking.html?AWB={TRACKID}"},
	{"GLS", "GLS", "https://gls-group.eu/track/{TRACKID}"},
}

// ThirdParty is a row of the demo llx_societe.
type ThirdParty struct {
	Name, Alias, Code      string
	Entity, Status         int
	Client, Supplier       int
	Address, Zip, Town     string
	CountryID              int
	Phone, Email, URL, VAT string
	// ShippingMethodID is the preferred llx_c_shipment_mode rowid (0: none).
	ShippingMethodID int
}

// demoCompanies: name, alias, street, zip, town, country rowid, phone.
var demoCompanies = [][7]string{
	{"Boulangerie Martin SARL", "Maison Martin", "12 rue des Lilas", "69003", "Lyon", "1", "+33 4 78 60 12 34"},
	{"Atelier Dubois & Fils", "", "4 avenue Jean Jaurès", "33000", "Bordeaux", "1", "+33 5 56 44 21 09"},
	{"Librairie du Vieux Port", "", "27 quai de Rive Neuve", "13007", "Marseille", "1", "+33 4 91 33 70 18"},
	{"Fromagerie Lefèvre", "", "8 place du Marché", "74000", "Annecy", "1", "+33 4 50 45 11 87"},
	{"Cave Saint-Vincent SAS", "Saint-Vincent Vins", "103 route de Beaune", "21200", "Beaune", "1", "+33 3 80 22 63 40"},
	{"Optique Bernard", "", "56 boulevard Haussmann", "75009", "Paris", "1", "+33 1 42 80 55 12"},
	{"Menuiserie Garnier", "", "Zone artisanale des Landes", "44300", "Nantes", "1", "+33 2 40 49 18 76"},
	{"Cosmétiques Provence Bio", "Provence Bio", "3 chemin des Oliviers", "84000", "Avignon", "1", "+33 4 90 82 14 55"},
	{"Studio Graphique Lumen", "Lumen", "19 rue Nationale", "59000", "Lille", "1", "+33 3 20 57 33 01"},
	{"Ferme des Trois Chênes", "", "Lieu-dit Kerbihan", "29000", "Quimper", "1", "+33 2 98 95 40 22"},
	{"Chocolaterie Roux", "", "2 rue du Palais", "67000", "Strasbourg", "1", "+33 3 88 32 60 14"},
	{"Électricité Moreau SARL", "", "45 rue de la République", "31000", "Toulouse", "1", "+33 5 61 21 89 90"},
	{"Brasserie Artisanale de Liège", "BAL", "Rue Saint-Gilles 210", "4000", "Liège", "2", "+32 4 223 45 67"},
	{"Van den Berg Tuinmaterialen", "", "Kortrijksesteenweg 88", "9000", "Gent", "2", "+32 9 222 31 04"},
	{"Chocolatier Vandamme", "", "Grand-Place 14", "1000", "Bruxelles", "2", "+32 2 511 48 20"},
	{"Nordwind Logistik GmbH", "Nordwind", "Am Sandtorkai 41", "20457", "Hamburg", "5", "+49 40 3039 8812"},
	{"Bäckerei Schneider KG", "", "Leopoldstraße 77", "80802", "München", "5", "+49 89 3398 1204"},
	{"Weber Feinmechanik GmbH", "", "Industriestraße 12", "70565", "Stuttgart", "5", "+49 711 784 2230"},
	{"Buchhandlung Krüger", "", "Schildergasse 3", "50667", "Köln", "5", "+49 221 257 0093"},
	{"Grünwerk Naturkost", "", "Oranienstraße 185", "10999", "Berlin", "5", "+49 30 6162 7784"},
	{"Hofmann Sportartikel", "", "Zeil 106", "60313", "Frankfurt am Main", "5", "+49 69 2199 4410"},
	{"Ceramiche Bianchi Srl", "", "Via dei Servi 22", "50122", "Firenze", "3", "+39 055 239 8871"},
	{"Pastificio Romano", "", "Via Tuscolana 510", "00181", "Roma", "3", "+39 06 788 2940"},
	{"Moda Esposito SpA", "Esposito", "Corso Buenos Aires 45", "20124", "Milano", "3", "+39 02 2951 6633"},
	{"Olivicola Greco", "", "Contrada Sant'Andrea", "70043", "Monopoli", "3", "+39 080 930 1175"},
	{"Vinos Herrera SL", "", "Calle Mayor 18", "26001", "Logroño", "4", "+34 941 22 81 40"},
	{"Cerámica Navarro", "", "Carrer de la Pau 7", "46002", "València", "4", "+34 963 51 70 29"},
	{"Librería Castillo", "", "Calle de Fuencarral 92", "28004", "Madrid", "4", "+34 915 21 66 03"},
	{"Textiles Ortega SA", "", "Polígono Can Salvatella", "08210", "Barberà del Vallès", "4", "+34 937 18 42 90"},
	{"Schmid Uhrenmanufaktur AG", "", "Bahnhofstrasse 32", "8001", "Zürich", "6", "+41 44 211 52 80"},
	{"Fromagerie du Léman Sàrl", "", "Rue du Rhône 61", "1204", "Genève", "6", "+41 22 310 44 19"},
	{"Thornbury Tea Company Ltd", "Thornbury Tea", "14 Kings Road", "SW3 4RP", "London", "7", "+44 20 7352 0198"},
	{"Highland Wool Mills", "", "21 Bridge Street", "IV1 1HD", "Inverness", "7", "+44 1463 710 442"},
	{"Cotswold Candle Works", "", "3 Sheep Street", "GL54 1AA", "Stow-on-the-Wold", "7", "+44 1451 830 210"},
	{"O'Sullivan Crafts Ltd", "", "9 Grafton Street", "D02 VP65", "Dublin", "8", "+353 1 677 4120"},
	{"Blue Ridge Outfitters Inc.", "Blue Ridge", "415 Main Street", "28801", "Asheville", "11", "+1 828 555 0142"},
	{"Harbor Light Coffee Roasters", "", "88 Commercial Street", "04101", "Portland", "11", "+1 207 555 0187"},
	{"Sonoran Leather Goods LLC", "", "2201 N Central Ave", "85004", "Phoenix", "11", "+1 602 555 0119"},
	{"Maple Grove Apiaries", "", "1250 Rue Sherbrooke O", "H3G 1H6", "Montréal", "14", "+1 514 555 0166"},
	{"Great Lakes Paddle Co.", "", "200 Queens Quay W", "M5J 2Y5", "Toronto", "14", "+1 416 555 0133"},
	{"De Vries Fietsen BV", "", "Prinsengracht 512", "1017 KH", "Amsterdam", "17", "+31 20 624 8831"},
	{"Kaasboerderij Jansen", "", "Dorpsstraat 44", "2801 AB", "Gouda", "17", "+31 182 51 20 77"},
	{"Bakker Design Studio", "", "Witte de Withstraat 61", "3012 BP", "Rotterdam", "17", "+31 10 411 90 25"},
	{"Lindqvist Möbler AB", "", "Drottninggatan 71", "111 36", "Stockholm", "20", "+46 8 21 44 90"},
	{"Nordic Knit Göteborg", "", "Kungsgatan 12", "411 19", "Göteborg", "20", "+46 31 13 87 02"},
	{"Conservas Ferreira Lda", "", "Rua das Flores 120", "4050-262", "Porto", "25", "+351 22 200 41 63"},
	{"Azulejos Lisboa", "", "Rua da Prata 88", "1100-420", "Lisboa", "25", "+351 21 342 77 10"},
	{"Riviera Yachting SAM", "", "7 quai Antoine Ier", "98000", "Monaco", "27", "+377 93 30 12 88"},
	{"Savonnerie Marius Fabre", "", "148 avenue Paul Bourret", "13300", "Salon-de-Provence", "1", "+33 4 90 53 24 77"},
	{"Imprimerie Lambert", "", "11 rue de la Gare", "35000", "Rennes", "1", "+33 2 99 30 45 61"},
}

var countryCodes = func() map[int]string {
	m := map[int]string{}
	for _, c := range DemoCountries {
		m[c.ID] = c.Code
	}
	return m
}()

// DemoThirdParties returns the demo llx_societe rows: 50 customers of entity 1
// (two of them closed, some also prospects), then prospects, suppliers and
// customers of another entity that the API must never show.
func DemoThirdParties() []ThirdParty {
	out := make([]ThirdParty, 0, len(demoCompanies)+9)
	for i, c := range demoCompanies {
		var countryID int
		_, _ = fmt.Sscan(c[5], &countryID)
		client := 1
		if i%7 == 3 {
			client = 3 // customer and prospect
		}
		status := 1
		if i == 9 || i == 33 {
			status = 0 // closed in Dolibarr: visible, but no new shipments
		}
		cc := countryCodes[countryID]
		out = append(out, ThirdParty{
			Name: c[0], Alias: c[1], Code: fmt.Sprintf("CU2301-%05d", i+1),
			Entity: 1, Status: status, Client: client,
			Address: c[2], Zip: c[3], Town: c[4], CountryID: countryID, Phone: c[6],
			Email: "orders@" + slug(c[0]) + "." + strings.ToLower(domainTLD(cc)),
			URL:   "https://www." + slug(c[0]) + "." + strings.ToLower(domainTLD(cc)),
			VAT:   vatNumber(cc, i),
			// Every third customer prefers a shipping method (rowids 3..6: Colissimo, UPS, DHL, GLS).
			ShippingMethodID: map[bool]int{true: 3 + i%4}[i%3 == 0],
		})
	}
	others := []ThirdParty{
		{Name: "Prospect Alpha Conseil", Client: 2, Entity: 1, Status: 1, Town: "Paris", Zip: "75011", Address: "5 rue Oberkampf", CountryID: 1},
		{Name: "Prospect Bergmann Handel", Client: 2, Entity: 1, Status: 1, Town: "Leipzig", Zip: "04109", Address: "Markt 9", CountryID: 5},
		{Name: "Prospect Rossi Arredamenti", Client: 2, Entity: 1, Status: 1, Town: "Torino", Zip: "10121", Address: "Via Roma 30", CountryID: 3},
		{Name: "Cartonnages du Nord (supplier)", Supplier: 1, Entity: 1, Status: 1, Town: "Roubaix", Zip: "59100", Address: "2 rue de l'Épeule", CountryID: 1},
		{Name: "Packwerk Verpackungen (supplier)", Supplier: 1, Entity: 1, Status: 1, Town: "Bremen", Zip: "28195", Address: "Obernstraße 2", CountryID: 5},
		{Name: "Étiquettes Express (supplier)", Supplier: 1, Entity: 1, Status: 1, Town: "Lyon", Zip: "69007", Address: "40 rue de Gerland", CountryID: 1},
		{Name: "Other Entity Customer One", Code: "CU2301-90001", Client: 1, Entity: 2, Status: 1, Town: "Nice", Zip: "06000", Address: "1 promenade des Anglais", CountryID: 1},
		{Name: "Other Entity Customer Two", Code: "CU2301-90002", Client: 1, Entity: 2, Status: 1, Town: "Lille", Zip: "59800", Address: "3 rue Faidherbe", CountryID: 1},
		{Name: "Unclassified Third Party", Entity: 1, Status: 1, Town: "Nantes", Zip: "44000", Address: "8 quai de la Fosse", CountryID: 0},
	}
	return append(out, others...)
}

func slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune("àâä", r):
			b.WriteRune('a')
		case strings.ContainsRune("éèêë", r):
			b.WriteRune('e')
		case strings.ContainsRune("öô", r):
			b.WriteRune('o')
		case strings.ContainsRune("üû", r):
			b.WriteRune('u')
		case r == 'ç':
			b.WriteRune('c')
		case r == ' ' || r == '-':
			if s := b.String(); s != "" && !strings.HasSuffix(s, "-") {
				b.WriteRune('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

func domainTLD(code string) string {
	switch code {
	case "GB":
		return "co.uk"
	case "US", "":
		return "com"
	}
	return code
}

func vatNumber(code string, i int) string {
	switch code {
	case "US", "CA", "CH", "MC", "":
		return ""
	case "GB":
		return fmt.Sprintf("GB%09d", 100000000+i*7919)
	case "GR":
		return ""
	}
	return fmt.Sprintf("%s%011d", code, 10000000000+int64(i)*104729)
}

// Contact is a row of the demo llx_socpeople.
type Contact struct {
	CustomerID                     int
	Entity                         int
	Civility, FirstName, LastName  string
	JobTitle, Email, Phone, Mobile string
	Private, Status                int
}

var firstNames = []string{"Camille", "Lukas", "Giulia", "Lucía", "Emma", "Noah", "Sofia", "Hugo", "Mia", "Liam", "Chloé", "Jan"}
var lastNames = []string{"Martin", "Müller", "Rossi", "García", "Dubois", "Schmidt", "Bianchi", "Fernández", "Bernard", "Wagner", "Moreau", "de Vries"}
var jobTitles = []string{"Logistics manager", "Purchasing", "Warehouse lead", "Accounts payable", "Owner"}

// DemoContacts returns the demo contacts: one or two active, public contacts
// for most customers, plus inactive and private ones the API must never show.
func DemoContacts() []Contact {
	var out []Contact
	for i := range demoCompanies {
		customer := i + 1
		n := 1 + i%2
		if i%5 == 4 {
			n = 0
		}
		for j := range n {
			k := (i*3 + j*7) % len(lastNames)
			first, last := firstNames[(i+j*5)%len(firstNames)], lastNames[k]
			out = append(out, Contact{
				CustomerID: customer, Entity: 1, Civility: []string{"MR", "MME", ""}[(i+j)%3],
				FirstName: first, LastName: last, JobTitle: jobTitles[(i+j)%len(jobTitles)],
				Email: strings.ToLower(slug(first)+"."+slug(last)) + "@" + slug(demoCompanies[i][0]) + ".example",
				Phone: demoCompanies[i][6], Status: 1,
			})
		}
	}
	// Never to be shown: an inactive contact, a private one, and one of another entity.
	out = append(out,
		Contact{CustomerID: 1, Entity: 1, FirstName: "Former", LastName: "Employee", Status: 0},
		Contact{CustomerID: 1, Entity: 1, FirstName: "Private", LastName: "Address", Private: 1, Status: 1},
		Contact{CustomerID: 1, Entity: 2, FirstName: "Other", LastName: "Entity", Status: 1},
	)
	return out
}
