package preprocess

import (
	"encoding/binary"
)

// TIFF tags that shape the decoder's block tables.
const (
	tiffRowsPerStrip = 278
	tiffTileWidth    = 322
	tiffTileLength   = 323
)

// tiffTableEntry is what the decoder holds per strip or tile: its offset
// and its byte count, each read as up to 4 bytes and kept as an 8-byte uint.
const tiffTableEntry = 2 * (4 + 8)

// tiffTables is the memory the TIFF decoder takes for its strip or tile
// tables: an entry per block it reads, which is one per strip of
// RowsPerStrip rows, or per tile, whatever the tables declare (the decoder
// reads no more). A directory it cannot read is charged as one strip per
// row, or as 8x8 tiles when it names tiles, the smallest the decoder takes.
func tiffTables(data []byte, w, h int) int64 {
	rows, tw, th := tiffBlockShape(data)
	var blocks int64
	switch {
	case tw > 0:
		tw, th = max(tw, 8), max(th, 8)
		blocks = int64((w+tw-1)/tw) * int64((h+th-1)/th)
	default:
		rows = max(rows, 1)
		blocks = int64((h + rows - 1) / rows)
	}
	return blocks * tiffTableEntry
}

// tiffBlockShape reads RowsPerStrip, TileWidth and TileLength from data's
// first directory (0 when absent or unreadable; TileWidth is then 0 too
// when absent, and 1 when the directory names tiles it cannot read).
func tiffBlockShape(data []byte) (rows, tileW, tileH int) {
	if len(data) < 8 {
		return 0, 0, 0
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if data[0] == 'M' {
		bo = binary.BigEndian
	}
	ifd := int64(bo.Uint32(data[4:8]))
	if ifd < 8 || ifd+2 > int64(len(data)) {
		return 0, 0, 0
	}
	n := int64(bo.Uint16(data[ifd:]))
	for i := range n {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(data)) {
			break
		}
		tag, typ := bo.Uint16(data[e:]), bo.Uint16(data[e+2:])
		v := int(bo.Uint32(data[e+8:]))
		if typ == 3 { // SHORT, left-justified in the value field
			v = int(bo.Uint16(data[e+8:]))
		}
		switch tag {
		case tiffRowsPerStrip:
			rows = v
		case tiffTileWidth:
			tileW = max(v, 1)
		case tiffTileLength:
			tileH = v
		}
	}
	return rows, tileW, tileH
}
