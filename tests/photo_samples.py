"""Images the photo tests make with Pillow (no binary files in the repository)."""
import io
import struct
import zlib

from PIL import ExifTags, Image

TAKEN = "2026:11:20 09:15:30"


def encode(image, image_format, **params):
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def phone_jpeg(size=(4032, 3024), orientation=6):
    """A landscape sensor image, red on the left half and blue on the right, as a phone
    held upright writes it: EXIF orientation, GPS position and capture time with offset."""
    width, height = size
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Momento test camera"
    exif.get_ifd(ExifTags.IFD.Exif).update({
        ExifTags.Base.DateTimeOriginal: TAKEN, ExifTags.Base.OffsetTimeOriginal: "+01:00",
    })
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (40.0, 25.0, 1.5),
        ExifTags.GPS.GPSLongitudeRef: "W", ExifTags.GPS.GPSLongitude: (3.0, 42.0, 7.25),
    })
    return encode(image, "JPEG", quality=85, exif=exif)


def small_jpeg(colour=(200, 120, 40), size=(64, 48)):
    return encode(Image.new("RGB", size, colour), "JPEG", quality=85)


def transparent_png(size=(50, 40)):
    image = Image.new("RGBA", size, (0, 128, 0, 0))
    image.paste((0, 128, 0, 255), (0, 0, size[0] // 2, size[1]))
    return encode(image, "PNG")


def webp(size=(80, 60)):
    return encode(Image.new("RGB", size, (10, 200, 30)), "WEBP", quality=80)


def heic(size=(64, 48)):
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(Image.new("RGB", size, (90, 30, 160)), "HEIF", quality=80)


def truncated_jpeg():
    data = encode(Image.effect_noise((400, 300), 50).convert("RGB"), "JPEG", quality=90)
    return data[: len(data) * 2 // 3]


def png_claiming(width, height):
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
