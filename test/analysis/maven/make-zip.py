# Builds test archives with Python's zipfile from a JSON plan on stdin (run at test time, never committed):
# {"out": path, "entries": [{"name", "file"?: path to copy, "text"?: str, "zeros"?: n, "zip"?: plan}],
#  "lie": {"name", "size"}?} — "zip" nests a plan, "zeros" streams n zero bytes, "lie" rewrites
#  the central directory's uncompressed size of one entry; "zip64": true writes every size and offset
#  it can in zip64 form (extra fields, the zip64 end record and locator), as an archive past 4 GiB has them.
import io, json, struct, sys, zipfile

def build(plan):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for e in plan["entries"]:
            if "file" in e:
                z.write(e["file"], e["name"])
            elif "text" in e:
                z.writestr(e["name"], e["text"])
            elif "zip" in e:
                z.writestr(e["name"], build(e["zip"]))
            elif "zeros" in e:
                with z.open(e["name"], "w", force_zip64=True) as w:
                    chunk = bytes(1 << 20)
                    left = e["zeros"]
                    while left > 0:
                        w.write(chunk[: min(left, len(chunk))])
                        left -= len(chunk)
    data = bytearray(buf.getvalue())
    if plan.get("zip64"):
        # the end record's own fields say "see the zip64 record", as when they overflow
        end = data.rfind(b"PK\x05\x06")
        struct.pack_into("<HHII", data, end + 8, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    lie = plan.get("lie")
    if lie:
        at = data.find(b"PK\x01\x02")
        while at >= 0:
            n = struct.unpack_from("<H", data, at + 28)[0]
            if data[at + 46 : at + 46 + n].decode() == lie["name"]:
                struct.pack_into("<I", data, at + 24, lie["size"])
            at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)

plan = json.load(sys.stdin)
if plan.get("zip64"):
    # zipfile switches to zip64 past these limits: at zero, every offset and count past the first is over
    zipfile.ZIP64_LIMIT = 0
    zipfile.ZIP_FILECOUNT_LIMIT = 0
open(plan["out"], "wb").write(build(plan))
