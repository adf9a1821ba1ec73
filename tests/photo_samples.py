"""Images the photo tests make with Pillow (no binary files in the repository).

The camera-like ones have sensor-like noise, so that they weigh what real photos weigh
(a flat colour compresses to almost nothing); they are slow to make, so each is made
once per run.
"""
import functools
import io
import struct
import zlib

from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFilter

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


def camera_scene(size, noise=0.4):
    """A scene as a camera sees it: light, shapes with edges, and sensor noise (`noise`
    is its share of each pixel)."""
    width, height = size
    light = Image.radial_gradient("L").resize(size)
    sky = Image.linear_gradient("L").resize(size)
    scene = Image.merge("RGB", (sky, light, ImageChops.invert(sky)))
    draw = ImageDraw.Draw(scene)
    for i in range(60):  # shelves, boxes and signs
        x, y = (i * 397) % width, (i * 211) % height
        colour = ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256)
        draw.rectangle((x, y, x + width // 13, y + height // 17), fill=colour)
    scene = scene.filter(ImageFilter.GaussianBlur(1))
    grain = Image.merge("RGB", [Image.effect_noise(size, 18) for _ in range(3)])
    return Image.blend(scene, grain, noise)


def camera_exif(orientation=1):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Momento test camera"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = TAKEN
    return exif


@functools.cache
def camera_jpeg(size=(4032, 3024), quality=92, orientation=1):
    """A camera's JPEG; at the default 12 MP, 3-4 MB."""
    return encode(camera_scene(size), "JPEG", quality=quality, exif=camera_exif(orientation))


def megabyte_jpeg():
    return camera_jpeg((2300, 1725), 90)  # about 1 MB


def jpeg_300kb():
    return camera_jpeg((1250, 940), 90)  # about 300 KB


def phone_resized_jpeg():
    """What the phone sends: long side 2000 px, quality 0.85 (static/js/photo.js)."""
    return camera_jpeg((2000, 1500), 85)


@functools.cache
def camera_png(size=(330, 250), noise=0.4):
    """An RGBA PNG of a noisy scene behind a gradient of transparency; about 200 KB."""
    image = camera_scene(size, noise).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize(size))
    return encode(image, "PNG")


@functools.cache
def camera_heic(size=(4032, 3024)):
    """A phone's HEIC (12 MP by default, about 8 MB; x265's fastest preset)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(camera_scene(size), "HEIF", quality=80, exif=camera_exif().tobytes(),
                  enc_params={"preset": "ultrafast"})


@functools.cache
def webp_of_49_megapixels():
    """8100 x 6000 pixels in under 100 KB: a flat scene compresses to almost nothing."""
    image = Image.new("RGB", (8100, 6000), (120, 130, 140))
    draw = ImageDraw.Draw(image)
    for i in range(50):
        draw.rectangle((i * 150, i * 100, i * 150 + 400, i * 100 + 300), fill=(i * 5, 200 - i * 3, 90))
    return encode(image, "WEBP", quality=80)


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
