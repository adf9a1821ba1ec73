"""Write audit_server/data/common_passwords.txt: the passwords people pick most often, built
offline from the well-known shapes of the public top lists (a common word or name, a keyboard
walk or a run of digits, with the usual endings). Run: python tools/common_passwords.py"""
from itertools import product
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "audit_server" / "data" / "common_passwords.txt"

WORDS = """password passw0rd p@ssword p@ssw0rd contraseña contrasena clave secreto secret admin
administrator administrador root toor user usuario guest invitado test tester welcome bienvenido
bienvenida letmein login iloveyou teamo tequiero amor amorcito princess princesa dragon monkey
mono football futbol soccer baseball basketball master superman batman spiderman shadow sunshine
starwars pokemon michael jennifer jordan hunter ranger buster thomas charlie daniel andrew
joshua matthew robert jessica ashley hannah maria mariana carlos alejandro fernando javier
manuel antonio jose juan pedro pablo lucia sofia martina valentina camila barcelona madrid
realmadrid mexico argentina colombia espana spain america chocolate cookie cheese pepper
freedom whatever trustno1 access flower flores computer internet samsung iphone apple google
facebook microsoft windows linux qwerty qwertyuiop asdfgh asdfghjkl zxcvbn zxcvbnm azerty
qazwsx qwerty123 1q2w3e4r 1q2w3e4r5t 1qaz2wsx zaq12wsx abc abcd abcdef abcdefg abcdefgh
killer hello hola holamundo helloworld money dinero lovely loveme baby babygirl angel angelito
summer winter autumn spring verano invierno monday friday january enero orange naranja purple
silver golden gold diamond tigger tiger lion leon eagle aguila yankees lakers cowboys mustang
ferrari porsche corvette harley matrix merlin ninja gamer player killer1 hockey tennis golf
jesus cristo dios love family familia mother madre father padre company empresa oficina office
tienda store shop audit auditoria momento""".split()

ENDINGS = ["", "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "123456789",
           "!", "1!", "123!", "01", "007", "69", "99", "00", "11", "22", "321", "54321", "?", ".",
           "@", "#", "$", "*", "2!", "!!"] + [str(y) for y in range(1960, 2031)] + \
          [f"{y}!" for y in range(2015, 2031)] + [f"{m:02d}" for m in range(1, 13)]

RUNS = ["123456789", "1234567890", "0123456789", "987654321", "9876543210", "qwertyuiop",
        "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc", "qwerty12345", "qweasdzxc", "1q2w3e4r5t6y",
        "!qaz2wsx", "q1w2e3r4t5", "a1b2c3d4e5", "abc123456", "abcdefghij", "iloveyou123",
        "11111111111", "00000000000", "12341234", "123123123", "123321123", "147258369",
        "159753", "741852963", "789456123", "qwertyqwerty", "passwordpassword", "1234qwer",
        "qwer1234", "asdf1234", "zxcv1234", "aaaaaa", "password1234", "changeme", "changeme123"]


def variants(word):
    yield word
    yield word.capitalize()
    yield word.upper()
    yield word.replace("a", "@").replace("o", "0").replace("e", "3")
    yield word.replace("o", "0").replace("i", "1")


def main():
    seen = set()
    for word, ending in product(WORDS, ENDINGS):
        for form in variants(word):
            seen.add((form + ending).lower())
    for run in RUNS:
        seen.add(run.lower())
        for ending in ENDINGS[:12]:
            seen.add((run + ending).lower())
    for digit in "0123456789":
        for length in range(6, 17):
            seen.add(digit * length)
    # Shorter ones are refused for their length anyway (accounts.MIN_PASSWORD).
    seen = {p for p in seen if len(p) >= 10}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text("".join(p + "\n" for p in sorted(seen)), encoding="utf-8")
    print(f"{len(seen)} passwords in {OUT}")


if __name__ == "__main__":
    main()
