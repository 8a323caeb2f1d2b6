#!/usr/bin/env python3
# crc32c_table.py - prints the slicing-by-8 tables of common/crc32c.c (CRC32C, reflected
# polynomial 0x82F63B78). table[0][i] is the CRC of the byte i; table[k][i] is that CRC pushed
# through k more zero bytes, so eight table lookups advance the CRC over eight bytes at once.
#
# Usage: python3 tools/crc32c_table.py    (paste the output into crc32c_table in common/crc32c.c)
POLY = 0x82F63B78


def tables():
    t = [[0] * 256 for _ in range(8)]
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (POLY if c & 1 else 0)
        t[0][i] = c
    for k in range(1, 8):
        for i in range(256):
            c = t[k - 1][i]
            t[k][i] = (c >> 8) ^ t[0][c & 0xFF]
    return t


def main():
    for row in tables():
        print("    {")
        for r in range(0, 256, 7):
            print("        " + " ".join("0x%08x," % v for v in row[r:r + 7]))
        print("    },")


if __name__ == "__main__":
    main()
