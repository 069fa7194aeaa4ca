package corpora

import (
	"strings"
)

// icecatRoot is the root of every Icecat category path.
const icecatRoot = "Electronics"

// icecatOther is the category of Icecat products that no rule matches.
var icecatOther = []string{icecatRoot, "Other"}

// categoryRule assigns path (under icecatRoot) to a product whose normalised
// "product type | title" contains every one of words. A word matches at the
// start of a word of the text ("cable" matches "cables"); a trailing space
// makes it match a whole word only ("ups ").
type categoryRule struct {
	words []string
	path  []string
}

// icecatRules are tried in order; the first match wins, so specific rules
// ("notebook case") come before general ones ("notebook"). They were written
// by reading the most frequent product types and title phrases of the data;
// TestIcecatCategoryCoverage bounds the share left in "Other".
var icecatRules = []categoryRule{
	// Specific phrases that contain a more general keyword of a later rule.
	{w("warranty"), p("Services", "Warranties")},
	{w("care pack"), p("Services", "Warranties")},
	{w("next business day"), p("Services", "Warranties")},
	{w("nextbusday"), p("Services", "Warranties")},
	{w("nbd"), p("Services", "Warranties")},
	{w("onsite"), p("Services", "Warranties")},
	{w("on-site"), p("Services", "Warranties")},
	{w("svc"), p("Services", "Warranties")},
	{w("hwsupp"), p("Services", "Warranties")},
	{w("hardware support"), p("Services", "Warranties")},
	{w("pickup"), p("Services", "Warranties")},
	{w("service bundle"), p("Services", "Warranties")},
	{w("desktop board"), p("Computer Components", "Motherboards")},
	{w("ram module"), p("Computer Components", "Memory")},
	{w("sound card"), p("Computer Components", "Sound Cards")},
	{w("audio card"), p("Computer Components", "Sound Cards")},
	{w("calculator"), p("Office Supplies", "Calculators")},
	{w("printer cable"), p("Cables", "Computer Cables")},
	{w("parallel"), p("Cables", "Computer Cables")},
	{w("photoframe"), p("Displays", "Digital Photo Frames")},
	{w("photo frame"), p("Displays", "Digital Photo Frames")},
	{w("home audio"), p("Audio", "Hi-Fi Systems")},
	{w("micro system"), p("Audio", "Hi-Fi Systems")},
	{w("music station"), p("Audio", "Hi-Fi Systems")},
	{w("car media"), p("Audio", "Car Audio")},
	{w("lcd tv"), p("Displays", "TVs")},
	{w("tv "), p("Displays", "TVs")},
	{w("television"), p("Displays", "TVs")},
	{w("uninterruptible"), p("Power", "UPS")},
	{w("battery cartridge"), p("Power", "UPS")},
	{w("data cartridge"), p("Storage", "Tape")},
	{w("tape cartridge"), p("Storage", "Tape")},
	{w("flat panel accessory"), p("Displays", "Display Accessories")},
	{w("screen protector"), p("Phones & PDAs", "Phone Accessories")},
	{w("remote control"), p("Displays", "TV Accessories")},
	{w("washing machine"), p("Home Appliances", "Large Appliances")},
	{w("dishwasher"), p("Home Appliances", "Large Appliances")},
	{w("refrigerator"), p("Home Appliances", "Large Appliances")},
	{w("kettle"), p("Home Appliances", "Kitchen Appliances")},
	{w("vacuum"), p("Home Appliances", "Cleaning Appliances")},
	{w("tape drive"), p("Storage", "Tape")},
	{w("data tape"), p("Storage", "Tape")},
	{w("label printer"), p("Printers & Supplies", "Printers")},
	{w("computer case"), p("Computer Components", "Computer Cases")},
	{w("memory module"), p("Computer Components", "Memory")},
	{w("memory card"), p("Storage", "Memory Cards")},
	{w("graphics card"), p("Computer Components", "Graphics Cards")},
	{w("power supply"), p("Computer Components", "Power Supplies")},
	{w("optical disc drive"), p("Storage", "Optical Drives")},
	{w("usb flash"), p("Storage", "USB Flash Drives")},
	{w("monitor cable"), p("Cables", "Audio & Video Cables")},

	// Printer supplies: the largest group of the sample.
	{w("toner"), p("Printers & Supplies", "Toner & Ink")},
	{w("ink cartridge"), p("Printers & Supplies", "Toner & Ink")},
	{w("ink tank"), p("Printers & Supplies", "Toner & Ink")},
	{w("inkjet cartridge"), p("Printers & Supplies", "Toner & Ink")},
	{w("singlepack"), p("Printers & Supplies", "Toner & Ink")},
	{w("multipack"), p("Printers & Supplies", "Toner & Ink")},
	{w("ink "), p("Printers & Supplies", "Toner & Ink")},
	{w("original", "pc(s)"), p("Printers & Supplies", "Toner & Ink")},
	{w("original black"), p("Printers & Supplies", "Toner & Ink")},
	{w("original cyan"), p("Printers & Supplies", "Toner & Ink")},
	{w("original magenta"), p("Printers & Supplies", "Toner & Ink")},
	{w("original yellow"), p("Printers & Supplies", "Toner & Ink")},
	{w("original photo"), p("Printers & Supplies", "Toner & Ink")},
	{w("original light"), p("Printers & Supplies", "Toner & Ink")},
	{w("original matte"), p("Printers & Supplies", "Toner & Ink")},
	{w("printer ribbon"), p("Printers & Supplies", "Toner & Ink")},
	{w("ribbon"), p("Printers & Supplies", "Toner & Ink")},
	{w("drum"), p("Printers & Supplies", "Drums & Imaging Units")},
	{w("imaging unit"), p("Printers & Supplies", "Drums & Imaging Units")},
	{w("photoconductor"), p("Printers & Supplies", "Drums & Imaging Units")},
	{w("fuser"), p("Printers & Supplies", "Printer Parts")},
	{w("transfer kit"), p("Printers & Supplies", "Printer Parts")},
	{w("transfer belt"), p("Printers & Supplies", "Printer Parts")},
	{w("transfer roller"), p("Printers & Supplies", "Printer Parts")},
	{w("transfer unit"), p("Printers & Supplies", "Printer Parts")},
	{w("maintenance"), p("Printers & Supplies", "Printer Parts")},
	{w("print head"), p("Printers & Supplies", "Printer Parts")},
	{w("printhead"), p("Printers & Supplies", "Printer Parts")},
	{w("waste toner"), p("Printers & Supplies", "Printer Parts")},
	{w("roller"), p("Printers & Supplies", "Printer Parts")},
	{w("staple"), p("Printers & Supplies", "Printer Parts")},
	{w("printer/scanner spare"), p("Printers & Supplies", "Printer Parts")},
	{w("printer kit"), p("Printers & Supplies", "Printer Parts")},
	{w("printer belt"), p("Printers & Supplies", "Printer Parts")},
	{w("tray"), p("Printers & Supplies", "Printer Accessories")},
	{w("feeder"), p("Printers & Supplies", "Printer Accessories")},
	{w("output stacker"), p("Printers & Supplies", "Printer Accessories")},
	{w("duplex unit"), p("Printers & Supplies", "Printer Accessories")},
	{w("finisher"), p("Printers & Supplies", "Printer Accessories")},
	{w("printer cabinet"), p("Printers & Supplies", "Printer Accessories")},
	{w("print server"), p("Printers & Supplies", "Printer Accessories")},
	{w("label-making tape"), p("Printers & Supplies", "Labels & Tape")},
	{w("label"), p("Printers & Supplies", "Labels & Tape")},
	{w("tape "), p("Printers & Supplies", "Labels & Tape")},
	{w("photo paper"), p("Printers & Supplies", "Paper & Media")},
	{w("printing paper"), p("Printers & Supplies", "Paper & Media")},
	{w("paper"), p("Printers & Supplies", "Paper & Media")},
	{w("printing film"), p("Printers & Supplies", "Paper & Media")},
	{w("film"), p("Printers & Supplies", "Paper & Media")},
	{w("printable textile"), p("Printers & Supplies", "Paper & Media")},
	{w("transparenc"), p("Printers & Supplies", "Paper & Media")},
	{w("large format"), p("Printers & Supplies", "Printers")},
	{w("photo printer"), p("Printers & Supplies", "Printers")},
	{w("inkjet printer"), p("Printers & Supplies", "Printers")},
	{w("laser printer"), p("Printers & Supplies", "Printers")},
	{w("dot matrix"), p("Printers & Supplies", "Printers")},
	{w("multifunction"), p("Printers & Supplies", "Printers")},
	{w("laserjet"), p("Printers & Supplies", "Printers")},
	{w("officejet"), p("Printers & Supplies", "Printers")},
	{w("deskjet"), p("Printers & Supplies", "Printers")},
	{w("designjet"), p("Printers & Supplies", "Printers")},
	{w("printer"), p("Printers & Supplies", "Printers")},
	{w("scanner"), p("Printers & Supplies", "Scanners")},
	{w("print cartridge"), p("Printers & Supplies", "Toner & Ink")},
	{w("imaging cartridge"), p("Printers & Supplies", "Toner & Ink")},
	{w("developer"), p("Printers & Supplies", "Toner & Ink")},
	{w("cartridge"), p("Printers & Supplies", "Toner & Ink")},

	// Accessories named after the device they fit.
	{w("notebook case"), p("Computer Accessories", "Bags & Cases")},
	{w("backpack"), p("Computer Accessories", "Bags & Cases")},
	{w("case"), p("Computer Accessories", "Bags & Cases")},
	{w("bag"), p("Computer Accessories", "Bags & Cases")},
	{w("sleeve"), p("Computer Accessories", "Bags & Cases")},
	{w("keyboard cover"), p("Computer Accessories", "Keyboards")},
	{w("docking"), p("Computer Accessories", "Docking Stations")},
	{w("dock"), p("Computer Accessories", "Docking Stations")},
	{w("port replicator"), p("Computer Accessories", "Docking Stations")},
	{w("cable lock"), p("Computer Accessories", "Security Locks")},
	{w("lock"), p("Computer Accessories", "Security Locks")},
	{w("kvm"), p("Computer Accessories", "KVM Switches")},
	{w("privacy"), p("Displays", "Display Accessories")},
	{w("ups battery"), p("Power", "UPS")},
	{w("notebook spare"), p("Computers", "Laptop Parts")},
	{w("spares and accessories"), p("Computers", "Laptop Parts")},

	// Power.
	{w("ups "), p("Power", "UPS")},
	{w("power distribution"), p("Power", "Power Distribution")},
	{w("pdu "), p("Power", "Power Distribution")},
	{w("surge"), p("Power", "Surge Protectors")},
	{w("power extension"), p("Power", "Power Distribution")},
	{w("power adapter"), p("Power", "Power Adapters")},
	{w("ac adapter"), p("Power", "Power Adapters")},
	{w("charger"), p("Power", "Power Adapters")},
	{w("battery"), p("Power", "Batteries")},
	{w("batteries"), p("Power", "Batteries")},
	{w("power cord"), p("Cables", "Power Cables")},
	{w("power cable"), p("Cables", "Power Cables")},

	// Audio and input devices, before the cables and wireless rules their titles also match.
	{w("headphone"), p("Audio", "Headphones")},
	{w("headset"), p("Audio", "Headphones")},
	{w("earphone"), p("Audio", "Headphones")},
	{w("in ear"), p("Audio", "Headphones")},
	{w("speaker"), p("Audio", "Speakers")},
	{w("soundbar"), p("Audio", "Speakers")},
	{w("microphone"), p("Audio", "Microphones")},
	{w("audio cable"), p("Cables", "Audio & Video Cables")},
	{w("mouse pad"), p("Computer Accessories", "Mice")},
	{w("mouse"), p("Computer Accessories", "Mice")},
	{w("mice"), p("Computer Accessories", "Mice")},
	{w("trackball"), p("Computer Accessories", "Mice")},
	{w("presenter"), p("Computer Accessories", "Mice")},
	{w("keyboard"), p("Computer Accessories", "Keyboards")},
	{w("webcam"), p("Computer Accessories", "Webcams")},

	// Network cables, then other cables and adapters.
	{w("networking cable"), p("Networking", "Network Cables")},
	{w("patch"), p("Networking", "Network Cables")},
	{w("cat5"), p("Networking", "Network Cables")},
	{w("cat6"), p("Networking", "Network Cables")},
	{w("cat 5"), p("Networking", "Network Cables")},
	{w("cat 6"), p("Networking", "Network Cables")},
	{w("rj45"), p("Networking", "Network Cables")},
	{w("fibre optic"), p("Networking", "Fibre Optic")},
	{w("fiber"), p("Networking", "Fibre Optic")},
	{w("transceiver"), p("Networking", "Fibre Optic")},
	{w("media converter"), p("Networking", "Fibre Optic")},
	{w("network media"), p("Networking", "Fibre Optic")},
	{w("usb cable"), p("Cables", "USB Cables")},
	{w("usb"), p("Cables", "USB Cables")},
	{w("vga"), p("Cables", "Audio & Video Cables")},
	{w("dvi"), p("Cables", "Audio & Video Cables")},
	{w("hdmi"), p("Cables", "Audio & Video Cables")},
	{w("displayport"), p("Cables", "Audio & Video Cables")},
	{w("coaxial"), p("Cables", "Audio & Video Cables")},
	{w("video"), p("Cables", "Audio & Video Cables")},
	{w("sata"), p("Cables", "Computer Cables")},
	{w("scsi"), p("Cables", "Computer Cables")},
	{w("serial"), p("Cables", "Computer Cables")},
	{w("firewire"), p("Cables", "Computer Cables")},
	{w("ieee"), p("Cables", "Computer Cables")},
	{w("gender"), p("Cables", "Adapters")},
	{w("adapter"), p("Cables", "Adapters")},
	{w("splitter"), p("Cables", "Adapters")},
	{w("extender"), p("Cables", "Adapters")},
	{w("cable"), p("Cables", "Other Cables")},
	{w("cord"), p("Cables", "Other Cables")},

	// Networking.
	{w("switch"), p("Networking", "Switches")},
	{w("unmanaged"), p("Networking", "Switches")},
	{w("managed"), p("Networking", "Switches")},
	{w("router"), p("Networking", "Routers")},
	{w("access point"), p("Networking", "Wireless Access Points")},
	{w("antenna"), p("Networking", "Antennas")},
	{w("network interface"), p("Networking", "Network Cards")},
	{w("networking card"), p("Networking", "Network Cards")},
	{w("network card"), p("Networking", "Network Cards")},
	{w("modem"), p("Networking", "Modems")},

	// Rack and server room.
	{w("netshelter"), p("Server Room", "Racks & Accessories")},
	{w("rail kit"), p("Server Room", "Racks & Accessories")},
	{w("rack"), p("Server Room", "Racks & Accessories")},
	{w("cable management"), p("Server Room", "Racks & Accessories")},
	{w("cable tie"), p("Server Room", "Cable Management")},
	{w("cable wrap"), p("Server Room", "Cable Management")},
	{w("cable organ"), p("Server Room", "Cable Management")},
	{w("sensor"), p("Server Room", "Monitoring")},
	{w("netbotz"), p("Server Room", "Monitoring")},
	{w("wire connector"), p("Server Room", "Cable Management")},

	// Displays.
	{w("projector lamp"), p("Displays", "Projector Lamps")},
	{w("lamp"), p("Displays", "Projector Lamps")},
	{w("projection screen"), p("Displays", "Projection Screens")},
	{w("projector mount"), p("Displays", "Mounts")},
	{w("projector"), p("Displays", "Projectors")},
	{w("mount"), p("Displays", "Mounts")},
	{w("bracket"), p("Displays", "Mounts")},
	{w("computer monitor"), p("Displays", "Monitors")},
	{w("monitor"), p("Displays", "Monitors")},
	{w("lcd"), p("Displays", "Monitors")},

	// Computers and phones, before the component words their titles list.
	{w("tablet"), p("Computers", "Tablets")},
	{w("hybrid (2-in-1)"), p("Computers", "Laptops")},
	{w("chromebook"), p("Computers", "Laptops")},
	{w("netbook"), p("Computers", "Laptops")},
	{w("notebook"), p("Computers", "Laptops")},
	{w("laptop"), p("Computers", "Laptops")},
	{w("mobile workstation"), p("Computers", "Laptops")},
	{w("server"), p("Computers", "Servers")},
	{w("workstation"), p("Computers", "Desktops & Workstations")},
	{w("all-in-one"), p("Computers", "Desktops & Workstations")},
	{w("mini pc"), p("Computers", "Desktops & Workstations")},
	{w("desktop"), p("Computers", "Desktops & Workstations")},
	{w("pc "), p("Computers", "Desktops & Workstations")},
	{w("thin client"), p("Computers", "Desktops & Workstations")},
	{w("handheld"), p("Phones & PDAs", "Handhelds")},
	{w("pda"), p("Phones & PDAs", "Handhelds")},
	{w("ipaq"), p("Phones & PDAs", "Handhelds")},
	{w("mobile phone"), p("Phones & PDAs", "Mobile Phones")},
	{w("smartphone"), p("Phones & PDAs", "Mobile Phones")},
	{w("mobile device"), p("Phones & PDAs", "Phone Accessories")},
	{w("phone"), p("Phones & PDAs", "Phones")},

	// Components and storage named by a generic word.
	{w("processor"), p("Computer Components", "Processors")},
	{w("motherboard"), p("Computer Components", "Motherboards")},
	{w("server/workstation board"), p("Computer Components", "Motherboards")},
	{w("ddr"), p("Computer Components", "Memory")},
	{w("chassis"), p("Computer Components", "Computer Cases")},
	{w("computer cooling"), p("Computer Components", "Cooling")},
	{w("fan "), p("Computer Components", "Cooling")},
	{w("heatsink"), p("Computer Components", "Cooling")},
	{w("raid"), p("Computer Components", "Storage Controllers")},
	{w("interface cards"), p("Computer Components", "Interface Cards")},
	{w("controller"), p("Computer Components", "Interface Cards")},
	{w("sdhc"), p("Storage", "Memory Cards")},
	{w("sdxc"), p("Storage", "Memory Cards")},
	{w("compactflash"), p("Storage", "Memory Cards")},
	{w("card reader"), p("Storage", "Card Readers")},
	{w("solid state"), p("Storage", "Solid State Drives")},
	{w("ssd"), p("Storage", "Solid State Drives")},
	{w("hard drive"), p("Storage", "Hard Drives")},
	{w("hard disk"), p("Storage", "Hard Drives")},
	{w("hdd"), p("Storage", "Hard Drives")},
	{w("optical disc"), p("Storage", "Optical Discs")},
	{w("dvd"), p("Storage", "Optical Discs")},
	{w("cd-r"), p("Storage", "Optical Discs")},
	{w("blank"), p("Storage", "Optical Discs")},
	{w("nas "), p("Storage", "Network Storage")},
	{w("storage"), p("Storage", "Storage Accessories")},
	{w("nvme"), p("Storage", "Solid State Drives")},
	{w("tlc"), p("Storage", "Solid State Drives")},
	{w("atx"), p("Computer Components", "Motherboards")},
	{w("socket"), p("Computer Components", "Motherboards")},
	{w("lga "), p("Computer Components", "Motherboards")},
	{w("tower"), p("Computer Components", "Computer Cases")},
	{w("cooler"), p("Computer Components", "Cooling")},

	// Cameras.
	{w("camera lens"), p("Cameras", "Lenses")},
	{w("lens"), p("Cameras", "Lenses")},
	{w("camera"), p("Cameras", "Cameras")},
	{w("flash"), p("Cameras", "Camera Accessories")},
	{w("tripod"), p("Cameras", "Camera Accessories")},

	// Other departments of the sample.
	{w("smartwatch"), p("Wearables", "Smartwatches")},
	{w("activity tracker"), p("Wearables", "Activity Trackers")},
	{w("console"), p("Gaming", "Consoles")},
	{w("joystick"), p("Gaming", "Controllers")},
	{w("flight"), p("Gaming", "Controllers")},
	{w("gamepad"), p("Gaming", "Controllers")},
	{w("dualshock"), p("Gaming", "Controllers")},
	{w("hi-fi"), p("Audio", "Hi-Fi Systems")},
	{w("toaster"), p("Home Appliances", "Kitchen Appliances")},
	{w("hob"), p("Home Appliances", "Large Appliances")},
	{w("epilator"), p("Home Appliances", "Personal Care")},
	{w("shelf"), p("Server Room", "Racks & Accessories")},
	{w("smartrack"), p("Server Room", "Racks & Accessories")},
	{w("sheets"), p("Printers & Supplies", "Paper & Media")},
	{w("posterboard"), p("Printers & Supplies", "Paper & Media")},
	{w("memory"), p("Computer Components", "Memory")},
	{w("dimm"), p("Computer Components", "Memory")},
	{w("gddr"), p("Computer Components", "Graphics Cards")},
	{w("quadro"), p("Computer Components", "Graphics Cards")},
	{w("thin client"), p("Computers", "Desktops & Workstations")},
	{w("wyse"), p("Computers", "Desktops & Workstations")},
	{w("tool"), p("Computer Accessories", "Tools")},
	{w("anti static"), p("Computer Accessories", "Tools")},
	{w("neutral density"), p("Cameras", "Camera Accessories")},
	{w("casters"), p("Displays", "Mounts")},
	{w("plate"), p("Displays", "Mounts")},
	{w("coupler"), p("Cables", "Power Cables")},
	{w("iec"), p("Cables", "Power Cables")},
	{w("ghz"), p("Computers", "Desktops & Workstations")},
	{w("player"), p("Audio", "Media Players")},
	{w("radio"), p("Audio", "Radios")},
	{w("signage"), p("Displays", "Monitors")},
	{w("support"), p("Services", "Warranties")},
	{w("e-icard"), p("Software")},
	{w("figure"), p("Toys", "Toys & Games")},
	{w("pieces"), p("Toys", "Toys & Games")},
	{w("bulb"), p("Lighting")},
	{w("lever arch"), p("Office Supplies", "Filing")},
	{w("folder"), p("Office Supplies", "Filing")},
	{w("file "), p("Office Supplies", "Filing")},
	{w("leitz"), p("Office Supplies", "Filing")},
	{w("herma"), p("Office Supplies", "Labels")},
	{w("software"), p("Software")},
	{w("licen"), p("Software")},
	{w("renewal"), p("Services", "Warranties")},
	{w("service"), p("Services", "Warranties")},
	{w("coffee"), p("Home Appliances", "Coffee Machines")},
	{w("espresso"), p("Home Appliances", "Coffee Machines")},
	{w("fryer"), p("Home Appliances", "Kitchen Appliances")},
	{w("grinder"), p("Home Appliances", "Kitchen Appliances")},
	{w("hair"), p("Home Appliances", "Personal Care")},
	{w("shaver"), p("Home Appliances", "Personal Care")},
	{w("trimmer"), p("Home Appliances", "Personal Care")},
	{w("toothbrush"), p("Home Appliances", "Personal Care")},
	{w("doll"), p("Toys", "Dolls & Playsets")},
	{w("playhouse"), p("Toys", "Dolls & Playsets")},
	{w("sylvanian"), p("Toys", "Dolls & Playsets")},
	{w("baby annabell"), p("Toys", "Dolls & Playsets")},
	{w("baby born"), p("Toys", "Dolls & Playsets")},
	{w("toy"), p("Toys", "Toys & Games")},
	{w("jigsaw"), p("Toys", "Toys & Games")},
	{w("puzzle"), p("Toys", "Toys & Games")},
	{w("kids"), p("Toys", "Toys & Games")},
	{w("whiteboard"), p("Office Supplies", "Presentation")},
	{w("laminat"), p("Office Supplies", "Laminators & Shredders")},
	{w("shredder"), p("Office Supplies", "Laminators & Shredders")},
	{w("pocket"), p("Office Supplies", "Filing")},
	{w("binder"), p("Office Supplies", "Filing")},
	{w("cleaning"), p("Computer Accessories", "Cleaning")},
	{w("filter"), p("Computer Accessories", "Filters")},

	// Last resorts: words that many kinds of product share.
	{w("original "), p("Printers & Supplies", "Toner & Ink")},
	{w("dpi "), p("Printers & Supplies", "Printers")},
	{w("ppm "), p("Printers & Supplies", "Printers")},
	{w("pixels"), p("Displays", "Monitors")},
	{w("audio"), p("Audio", "Audio Accessories")},
	{w("ethernet"), p("Networking", "Network Cards")},
	{w("wireless"), p("Networking", "Wireless")},
	{w("bluetooth"), p("Networking", "Wireless")},
}

func w(words ...string) []string { return words }
func p(levels ...string) []string {
	return append([]string{icecatRoot}, levels...)
}

// icecatCategory derives the category path of an Icecat product from its
// attr_t_product_type when a rule matches it, else from its title. The returned slice is shared between
// products and must not be modified.
func icecatCategory(productType, title string) []string {
	if productType != "" {
		if path := matchRules(normalizeForRules(productType)); path != nil {
			return path
		}
	}
	if path := matchRules(normalizeForRules(title)); path != nil {
		return path
	}
	return icecatOther
}

// matchRules returns the path of the first rule that matches text, or nil.
func matchRules(text string) []string {
	for i := range icecatRules {
		r := &icecatRules[i]
		ok := true
		for _, word := range r.words {
			if !containsWordStart(text, word) {
				ok = false
				break
			}
		}
		if ok {
			return r.path
		}
	}
	return nil
}

// normalizeForRules lower-cases s, turns the separators "," ";" "_" and
// runs of spaces into one space and pads the result with spaces.
func normalizeForRules(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		switch r {
		case ' ', '\t', ',', ';', '_', '.', '"':
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(r)
		space = false
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// containsWordStart reports whether word occurs in text at the start of a
// word: after a space or another non-alphanumeric byte.
func containsWordStart(text, word string) bool {
	for off := 0; ; {
		i := strings.Index(text[off:], word)
		if i < 0 {
			return false
		}
		i += off
		if i == 0 || !isAlnum(text[i-1]) {
			return true
		}
		off = i + 1
	}
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
