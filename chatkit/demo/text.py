"""Chat text that reads like people: German and English, short and long, on a topic.

Deterministic for a given `random.Random`. A conversation thread keeps one
topic and one language; its messages move from an opener through questions
and answers to a closing word, with the odd link, emoji, umlaut and ß, so
that search (`grüsse` finds `Grüße`), the notebooks and Datasette have
something real to chew on.
"""

from __future__ import annotations

import random

EMOJI = ["🙂", "😂", "👍", "🎉", "😅", "🙈", "❤️", "🍕", "☕", "🚲", "🌧️", "☀️", "🤔", "😴", "🙌", "🥳", "👀"]

FILL = {
    "de": {
        "day": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag", "morgen",
                "übermorgen", "heute Abend", "am Wochenende"],
        "time": ["um 7", "um halb 8", "gegen 19 Uhr", "um 18:30", "nach der Arbeit", "so um 20 Uhr", "mittags"],
        "place": ["im Café Müller", "am Bahnhof", "bei mir", "im Biergarten", "an der Brücke", "in der Mensa",
                  "am Kiosk an der Ecke", "in der Hauptstraße", "im Park"],
        "food": ["Pizza", "Käsespätzle", "Falafel", "Ramen", "Flammkuchen", "Gemüsecurry", "Brötchen",
                 "Apfelstrudel", "Königsberger Klopse"],
    },
    "en": {
        "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "tomorrow",
                "tonight", "this weekend"],
        "time": ["at 7", "around half past 7", "at 6:30", "after work", "around 8pm", "at noon"],
        "place": ["at the café", "at the station", "at my place", "in the beer garden", "by the bridge",
                  "at the corner shop", "in the park", "at the usual spot"],
        "food": ["pizza", "ramen", "falafel", "curry", "pancakes", "tacos", "a big salad", "dumplings"],
    },
}

LINKS = {
    "plans": ["https://www.openstreetmap.org/#map=17/52.52003/13.40489", "https://maps.app.goo.gl/Xy7pQ2"],
    "food": ["https://www.chefkoch.de/rezepte/1234567/Kaesespaetzle.html", "https://cooking.nytimes.com/recipes/1017256"],
    "work": ["https://github.com/chatkit/chatkit/issues/42", "https://docs.google.com/document/d/1aBcD"],
    "travel": ["https://www.bahn.de/buchung/fahrplan/suche", "https://www.booking.com/hotel/at/gasthof-post.html"],
    "media": ["https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://de.wikipedia.org/wiki/Die_Blechtrommel",
              "https://www.imdb.com/title/tt0111161/"],
    "sport": ["https://www.strava.com/activities/987654321", "https://www.kicker.de/bundesliga/tabelle"],
    "home": ["https://www.ikea.com/de/de/p/billy-buecherregal-weiss-00263850/"],
}

# Per topic and language: how a thread opens, what gets asked, answered, added, and how it ends.
TOPICS = {
    "plans": {
        "de": {
            "open": ["Hey {name}, hast du {day} Zeit?", "Lust auf was {day}?", "Na, was machst du {day}?",
                     "Wollen wir uns {day} treffen?", "Kino {day}? Der neue Film soll gut sein"],
            "ask": ["Wann passt es dir?", "Wo treffen wir uns?", "Soll ich Karten besorgen?",
                    "Kommt Jonas auch mit?", "Wie wär's {place}?"],
            "answer": ["Klar, {time} passt!", "{day} geht leider nicht, aber danach gern", "Ja, {place} {time}?",
                       "Ich schau mal, ob ich früher rauskomme", "Passt, ich bring meine Schwester mit"],
            "more": ["Ich reservier uns einen Tisch {place}.", "Hier ist der Treffpunkt: {link}",
                     "Falls es regnet, gehen wir einfach rein.",
                     "Ich hab übrigens noch zwei Gutscheine, die müssen bis Ende des Monats weg. "
                     "Dann lohnt sich das doppelt! Sag Bescheid, wenn du doch später kommst, "
                     "dann warte ich drinnen. Die Straßenbahn fährt ja zum Glück bis spät."],
            "close": ["Super, bis dann!", "Freu mich 🙂", "Abgemacht 👍", "Bis {day}!", "Perfekt, bis später"],
        },
        "en": {
            "open": ["Hey {name}, free {day}?", "Fancy doing something {day}?", "Movie {day}? Heard the new one is great",
                     "Are we still on for {day}?", "Want to grab a coffee {day}?"],
            "ask": ["What time works for you?", "Where shall we meet?", "Should I get tickets?",
                    "Is Max coming too?", "How about {place}?"],
            "answer": ["Sure, {time} works!", "Can't do {day}, but any other day is fine", "Yes! {place} {time}?",
                       "Let me check if I can leave early", "Sounds good, I'll bring my sister"],
            "more": ["I'll book a table {place}.", "Here's the spot: {link}", "If it rains we'll just go inside.",
                     "Also I still have two vouchers that expire at the end of the month, so this works out "
                     "nicely. Let me know if you're running late and I'll wait inside."],
            "close": ["Great, see you then!", "Looking forward to it 🙂", "Deal 👍", "See you {day}!", "Perfect"],
        },
    },
    "food": {
        "de": {
            "open": ["Was kochst du heute?", "Ich hab so Hunger auf {food}", "Weißt du noch das Rezept für {food}?",
                     "Ich hab zu viel {food} gemacht, willst du was abhaben?"],
            "ask": ["Mit oder ohne Käse?", "Wie lange muss das in den Ofen?", "Hast du noch Mehl da?",
                    "Kann man das auch vegan machen?"],
            "answer": ["Ich schick dir den Link: {link}", "Ungefähr 25 Minuten bei 200 Grad", "Ja, mit Hafermilch geht das gut",
                       "Ganz einfach: Zwiebeln anbraten, dann den Rest rein und schön langsam köcheln lassen. "
                       "Zum Schluss ein bisschen Muskat und Salz. Das Geheimnis ist Geduld 😅"],
            "more": ["Oh, und vergiss die Petersilie nicht!", "Das war übrigens das Rezept von Oma.",
                     "Bei mir ist es beim letzten Mal angebrannt, also lieber umrühren 🙈"],
            "close": ["Danke dir!", "Lecker, mach ich heute Abend", "Guten Appetit!", "Mjam 🍕"],
        },
        "en": {
            "open": ["What are you cooking tonight?", "I'm craving {food}", "Do you still have that {food} recipe?",
                     "I made way too much {food}, want some?"],
            "ask": ["With or without cheese?", "How long does it go in the oven?", "Do you have any flour left?",
                    "Can you make it vegan?"],
            "answer": ["Here's the link: {link}", "About 25 minutes at 200 degrees", "Yes, oat milk works fine",
                       "It's easy: fry the onions, add everything else and let it simmer slowly. A pinch of "
                       "nutmeg at the end. The secret is patience 😅"],
            "more": ["Oh and don't forget the parsley!", "That was my grandma's recipe by the way.",
                     "Mine burned last time, so keep stirring 🙈"],
            "close": ["Thanks!", "Yum, making it tonight", "Enjoy!", "🍕🍕"],
        },
    },
    "work": {
        "de": {
            "open": ["Hast du die Mail vom Chef gesehen?", "Das Meeting {day} wurde verschoben",
                     "Kurze Frage zum Projekt", "Bist du heute im Büro?"],
            "ask": ["Bis wann muss das fertig sein?", "Kannst du kurz drüberschauen? {link}",
                    "Wer macht die Präsentation?", "Hast du die Zahlen schon?"],
            "answer": ["Bis Freitag, glaube ich", "Ja, schau ich mir gleich an", "Ich kann das übernehmen",
                       "Noch nicht, der Export hängt seit heute früh. Ich hab schon ein Ticket aufgemacht, "
                       "aber die IT meldet sich frühestens morgen. Ich melde mich, sobald ich was weiß."],
            "more": ["Außerdem müssen wir noch die Folien für die Geschäftsführung anpassen.",
                     "Das Protokoll liegt im Ordner.", "Ich bin ab 15 Uhr im Homeoffice."],
            "close": ["Danke, du bist die Beste!", "Okay, bis später", "👍", "Alles klar, ich kümmere mich drum"],
        },
        "en": {
            "open": ["Did you see the email from the boss?", "The meeting on {day} got moved",
                     "Quick question about the project", "Are you in the office today?"],
            "ask": ["When is it due?", "Could you take a quick look? {link}", "Who's doing the presentation?",
                    "Do you have the numbers yet?"],
            "answer": ["Friday I think", "Sure, I'll look right away", "I can take that one",
                       "Not yet, the export has been stuck since this morning. I opened a ticket but IT "
                       "won't get back before tomorrow. I'll ping you as soon as I know more."],
            "more": ["We also need to update the slides for the board.", "The notes are in the shared folder.",
                     "I'm working from home after 3."],
            "close": ["Thanks, you're a star!", "Okay, talk later", "👍", "Got it, I'll handle it"],
        },
    },
    "travel": {
        "de": {
            "open": ["Mein Zug hat schon wieder 40 Minuten Verspätung 🙄", "Wir fahren im Sommer nach Österreich!",
                     "Bin gut angekommen", "Hast du schon Urlaub geplant?"],
            "ask": ["Wann kommst du an?", "Habt ihr schon eine Unterkunft?", "Fährst du mit dem Zug oder Auto?",
                    "Brauchst du eine Abholung?"],
            "answer": ["Gegen 21 Uhr am Hauptbahnhof", "Ja, eine kleine Pension am See: {link}",
                       "Mit dem Zug, das ist entspannter", "Das wäre super, danke!"],
            "more": ["Die Landschaft hier ist unglaublich schön.", "Grüße aus den Bergen! ☀️",
                     "Der Anschlusszug ist natürlich weg, jetzt sitze ich eine Stunde in Fulda. "
                     "Immerhin gibt es hier eine gute Bäckerei, und das WLAN funktioniert sogar."],
            "close": ["Gute Reise!", "Meld dich, wenn du da bist", "Viel Spaß euch!", "Bis bald 🚆"],
        },
        "en": {
            "open": ["My train is 40 minutes late again 🙄", "We're going to Scotland this summer!",
                     "Arrived safely", "Have you planned your holiday yet?"],
            "ask": ["When do you get in?", "Have you booked a place to stay?", "Train or car?",
                    "Need a lift from the station?"],
            "answer": ["Around 9pm at the main station", "Yes, a little guesthouse by the lake: {link}",
                       "Train, it's more relaxed", "That would be great, thanks!"],
            "more": ["The scenery here is unbelievable.", "Greetings from the mountains! ☀️",
                     "Of course I missed the connection, so now I'm stuck for an hour. At least there's a "
                     "decent bakery and the wifi actually works."],
            "close": ["Safe travels!", "Text me when you're there", "Have fun!", "See you soon 🚆"],
        },
    },
    "sport": {
        "de": {
            "open": ["Gehen wir {day} laufen?", "Hast du das Spiel gestern gesehen?", "Kletterhalle {day}?",
                     "Ich hab mich endlich im Fitnessstudio angemeldet"],
            "ask": ["Wie weit willst du laufen?", "Wer hat gewonnen?", "Hast du noch Schuhe für mich?",
                    "Wie oft gehst du so?"],
            "answer": ["So 10 km, ganz locker", "2:1, in der Nachspielzeit!", "Ja, Größe 42 hab ich da",
                       "Drei Mal die Woche, wenn ich es schaffe"],
            "more": ["Hier ist meine Runde von heute: {link}", "Mein Knie meckert ein bisschen, aber geht schon.",
                     "Fußball ist einfach das Größte ⚽"],
            "close": ["Bin dabei!", "Sportlich 💪", "Bis {day} dann", "Super, ich freu mich"],
        },
        "en": {
            "open": ["Running {day}?", "Did you watch the match last night?", "Climbing gym {day}?",
                     "I finally signed up at the gym"],
            "ask": ["How far do you want to go?", "Who won?", "Do you have spare shoes?", "How often do you go?"],
            "answer": ["About 10k, nice and easy", "2-1, in stoppage time!", "Yes, I have a size 42",
                       "Three times a week when I manage"],
            "more": ["Here's my route from today: {link}", "My knee is complaining a bit, but it's fine.",
                     "What a game ⚽"],
            "close": ["I'm in!", "Sporty 💪", "See you {day}", "Great, looking forward"],
        },
    },
    "media": {
        "de": {
            "open": ["Kennst du die Serie schon?", "Ich les gerade ein richtig gutes Buch", "Hast du den Trailer gesehen? {link}",
                     "Welchen Podcast hörst du gerade?"],
            "ask": ["Worum geht es?", "Lohnt sich die zweite Staffel?", "Kannst du mir das ausleihen?",
                    "Ist das auf Deutsch oder Englisch?"],
            "answer": ["Um eine Familie in den 80ern, total schräg", "Ja! Die ist sogar noch besser",
                       "Klar, ich bring es mit", "Im Original, mit Untertiteln"],
            "more": ["Das Ende hat mich echt überrascht.", "Hier ist die Rezension: {link}",
                     "Ich hab die ganze Nacht durchgeschaut und bin jetzt völlig müde 😴"],
            "close": ["Muss ich mir anschauen!", "Danke für den Tipp", "Haha ok 😂", "Kommt auf meine Liste"],
        },
        "en": {
            "open": ["Have you seen this series yet?", "I'm reading a really good book", "Did you see the trailer? {link}",
                     "What podcast are you listening to?"],
            "ask": ["What's it about?", "Is season two worth it?", "Can I borrow it?", "Is it any good?"],
            "answer": ["A family in the 80s, totally weird", "Yes! It's even better", "Sure, I'll bring it",
                       "Honestly one of the best things I've watched this year"],
            "more": ["The ending really surprised me.", "Here's the review: {link}",
                     "I binge-watched the whole thing last night and now I'm a zombie 😴"],
            "close": ["Adding it to my list!", "Thanks for the tip", "Haha ok 😂", "Will check it out"],
        },
    },
    "home": {
        "de": {
            "open": ["Wir ziehen um! 📦", "Die Heizung ist schon wieder kaputt", "Kannst du mir {day} beim Regal helfen?",
                     "Unser Vermieter hat endlich geantwortet"],
            "ask": ["Wohin denn?", "Hast du eine Bohrmaschine?", "Brauchst du Hilfe beim Tragen?",
                    "Wie groß ist die neue Wohnung?"],
            "answer": ["In die Gartenstraße, drei Zimmer mit Balkon!", "Ja, ich bring sie mit",
                       "Das wäre super, wir haben so viele Kisten", "Knapp 80 Quadratmeter"],
            "more": ["Das Regal ist übrigens das hier: {link}", "Der Hausmeister kommt erst nächste Woche.",
                     "Die Küche ist zwar klein, aber dafür ist es ruhig und man hört morgens die Vögel. "
                     "Und die Bäckerei ist direkt gegenüber, gefährlich 😅"],
            "close": ["Ich bring Pizza mit 🍕", "Glückwunsch!", "Danke, du rettest mich", "Bis {day}"],
        },
        "en": {
            "open": ["We're moving! 📦", "The heating broke again", "Could you help me with the shelf {day}?",
                     "Our landlord finally replied"],
            "ask": ["Where to?", "Do you have a drill?", "Need help carrying stuff?", "How big is the new place?"],
            "answer": ["Garden Street, three rooms and a balcony!", "Yes, I'll bring it", "That would be amazing",
                       "About 80 square metres"],
            "more": ["This is the shelf by the way: {link}", "The caretaker can't come until next week.",
                     "The kitchen is tiny but it's quiet and you can hear the birds in the morning. And the "
                     "bakery is right across the street, which is dangerous 😅"],
            "close": ["I'll bring pizza 🍕", "Congrats!", "Thanks, you're a lifesaver", "See you {day}"],
        },
    },
}

LONG = {
    "de": [
        "Kurzes Update von mir, weil so viel los war: Am Montag hatte ich endlich das Gespräch mit der "
        "Abteilungsleiterin, und es lief besser als gedacht. Sie will, dass ich ab Januar das neue Projekt "
        "übernehme, mit zwei Leuten im Team und einem eigenen Budget. Dienstag war dann der Umzug von meinem "
        "Bruder, wir haben bis Mitternacht Kisten geschleppt, mein Rücken spürt es heute noch. Und gestern ist "
        "mir im Zug aufgefallen, dass ich meinen Schlüssel bei ihm liegen gelassen habe 🙈 Naja. Wie geht's dir "
        "denn? Wir müssen unbedingt mal wieder richtig quatschen, nicht nur zwischen Tür und Angel.",
        "Ich hab gestern Abend endlich das Buch zu Ende gelesen, das du mir empfohlen hast. Am Anfang fand ich "
        "es ehrlich gesagt etwas zäh, die ersten hundert Seiten passiert ja kaum etwas. Aber dann, als die "
        "Geschichte mit dem Bruder aufgelöst wird, konnte ich nicht mehr aufhören. Die Szene am Bahnhof hat mich "
        "wirklich mitgenommen. Ich glaube, ich lese es nächstes Jahr noch mal, dann mit mehr Geduld. Hast du "
        "noch mehr von der Autorin? Dann leih ich mir beim nächsten Treffen gleich das nächste aus.",
        "Also, der Plan für Samstag: Wir treffen uns um 10 am Hauptbahnhof, Gleis 4, der Zug fährt um 10:17. "
        "In Königswinter laufen wir dann hoch zum Drachenfels, das sind ungefähr zwei Stunden mit Pausen. Oben "
        "gibt es ein Café, aber ich würde trotzdem Brote mitnehmen, die Preise dort sind frech. Zurück nehmen "
        "wir entweder die Zahnradbahn oder laufen runter, je nachdem, wie fit wir noch sind. Bitte gute Schuhe "
        "anziehen, es kann matschig sein! Wetter sieht bisher gut aus ☀️",
    ],
    "en": [
        "Quick update because this week has been a lot: on Monday I finally had the meeting with the head of "
        "department and it went better than expected. She wants me to take over the new project from January, "
        "with two people on the team and a budget of my own. Tuesday was my brother's move, we carried boxes "
        "until midnight and my back still hates me. And yesterday on the train I realised I'd left my keys at "
        "his place 🙈 Anyway. How are you? We really need a proper catch-up soon, not just five minutes here "
        "and there.",
        "I finally finished the book you recommended last night. Honestly the first hundred pages were slow, "
        "almost nothing happens. But once the story with the brother comes together I couldn't put it down. "
        "The scene at the station really got to me. I think I'll read it again next year with more patience. "
        "Do you have anything else by her? I'd love to borrow the next one when we meet.",
        "So, the plan for Saturday: we meet at 10 at the main station, platform 4, the train leaves at 10:17. "
        "From there we walk up the hill, about two hours with breaks. There's a café at the top but I'd bring "
        "sandwiches anyway, the prices there are outrageous. On the way back we either take the little railway "
        "or walk down, depending on how we feel. Wear proper shoes, it can get muddy! The forecast looks good ☀️",
    ],
}

SMALL_TALK = {
    "de": ["Haha 😂", "ok", "Ja", "Nee", "Stimmt", "Echt jetzt?", "Moment", "Bin gleich da", "Sorry, war im Meeting",
           "Viele Grüße an deine Eltern!", "Schlaf gut 😴", "Guten Morgen ☕", "Alles gut bei dir?", "Krass",
           "Oh nein", "Danke!", "Gern geschehen", "Das ist ja großartig!", "Mal sehen", "Ich weiß nicht genau"],
    "en": ["Haha 😂", "ok", "Yes", "Nope", "True", "Seriously?", "One sec", "Almost there", "Sorry, was in a meeting",
           "Say hi to your parents!", "Sleep well 😴", "Morning ☕", "All good with you?", "Wow", "Oh no",
           "Thanks!", "No worries", "That's amazing!", "We'll see", "Not sure"],
}


class TextMaker:
    """Messages drawn from one seeded random source: `message(lang, topic, role, name)`."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def pick_topic(self) -> str:
        return self.rng.choice(list(TOPICS))

    def message(self, lang: str, topic: str, role: str, name: str = "") -> str:
        """One message; role is open, ask, answer, more, close or chat (small talk)."""
        rng = self.rng
        pool = TOPICS[topic][lang]
        if role == "chat":
            parts = [rng.choice(SMALL_TALK[lang])]
        elif role in ("more", "answer") and rng.random() < (0.1 if role == "more" else 0.015):
            # now and then someone writes a lot
            parts = [rng.choice(LONG[lang])]
        elif role in ("answer", "more") and rng.random() < 0.04:
            parts = rng.sample(pool["answer"] + pool["more"], k=rng.randrange(3, 6))
        else:
            parts = [rng.choice(pool[role])]
            if role in ("answer", "ask") and rng.random() < 0.18:
                parts.append(rng.choice(pool["more"]))
        text = _join([self._fill(part, lang, topic, name) for part in parts])
        if rng.random() < 0.12 and not any(e in text for e in EMOJI):
            text += " " + rng.choice(EMOJI)
        return text

    def _fill(self, text: str, lang: str, topic: str, name: str) -> str:
        rng = self.rng
        values = {key: rng.choice(options) for key, options in FILL[lang].items()}
        values["name"] = name.capitalize()
        values["link"] = rng.choice(LINKS[topic])
        return text.format(**values)


def _join(parts: list[str]) -> str:
    """Sentences as one message: a full stop where a sentence has no ending of its own."""
    out = parts[0]
    for part in parts[1:]:
        if out[-1].isalnum():
            out += "."
        out += " " + part
    return out
