package chip

import "testing"

// TestChips: devices and HBM per device follow docs/systems.md D1 (Trn2 at
// LNC=2: 4 logical cores of one 24 GiB bank each, less 2 × 96 MiB of
// firmware; at LNC=1 two cores share a bank), and LNC is checked per chip.
func TestChips(t *testing.T) {
	for _, tt := range []struct {
		name    string
		lnc     int
		devices int
		hbmGiB  float64
		lncOK   bool
	}{
		{"trainium2", 2, 4, 24 - 2*96.0/1024, true},
		{"trainium2", 1, 8, 12 - 96.0/1024, true},
		{"trainium3", 2, 4, 36 - 2*96.0/1024, true},
		{"trainium1", 1, 2, 16 - 96.0/1024, true},
		{"trainium1", 2, 0, 0, false},
		{"h100", 1, 1, 80e9 / GiB, true},
		{"h100", 2, 0, 0, false},
	} {
		c, err := ByName(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckLNC(tt.lnc); (err == nil) != tt.lncOK {
			t.Errorf("%s lnc=%d: %v, want ok=%v", tt.name, tt.lnc, err, tt.lncOK)
		}
		if !tt.lncOK {
			continue
		}
		if d := c.DevicesPerChip(tt.lnc); d != tt.devices {
			t.Errorf("%s lnc=%d: %d devices, want %d", tt.name, tt.lnc, d, tt.devices)
		}
		if got := c.DeviceHBMBytes(tt.lnc) / GiB; got != tt.hbmGiB {
			t.Errorf("%s lnc=%d: %.4f GiB per device, want %.4f", tt.name, tt.lnc, got, tt.hbmGiB)
		}
	}
	if _, err := ByName("tpu"); err == nil {
		t.Error("ByName(tpu) found a chip")
	}
}
