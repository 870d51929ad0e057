"""The simulated world: time zones with their people, languages, places, clients and words.

Everything here is made up for the simulator except the IANA zone names (real tzdata zones,
so DST and historic offsets apply) and the state-media domains, which are real outlets from
the bundled State Media Matrix.
"""

# zone, weight, language, places people write in their profile
ZONES = [
    ("America/New_York", 18, "en", ["New York, NY", "NYC", "Brooklyn", "Boston, MA", "Philadelphia, PA", "Atlanta"]),
    ("America/Chicago", 9, "en", ["Chicago, IL", "Houston, TX", "Dallas", "Texas", "Minneapolis"]),
    ("America/Denver", 3, "en", ["Denver, CO", "Salt Lake City"]),
    ("America/Los_Angeles", 10, "en", ["Los Angeles, CA", "San Francisco", "Seattle, WA", "LA", "Portland, OR"]),
    ("Europe/London", 8, "en", ["London 🇬🇧", "Manchester, England", "UK", "Glasgow, Scotland"]),
    ("Europe/Berlin", 6, "de", ["Berlin", "München", "Deutschland", "Hamburg"]),
    ("Europe/Paris", 5, "fr", ["Paris, France", "Lyon", "Marseille"]),
    ("Europe/Madrid", 4, "es", ["Madrid", "Barcelona", "España"]),
    ("Europe/Moscow", 5, "ru", ["Москва", "Moscow", "Санкт-Петербург", "Россия"]),
    ("Asia/Tehran", 4, "fa", ["تهران", "Tehran, Iran", "ایران", "اصفهان"]),
    ("Asia/Riyadh", 3, "ar", ["الرياض", "Riyadh", "جدة"]),
    ("Asia/Kolkata", 6, "en", ["Mumbai", "New Delhi, India", "Bangalore"]),
    ("America/Sao_Paulo", 5, "pt", ["São Paulo", "Rio de Janeiro", "Brasil"]),
    ("Asia/Tokyo", 4, "ja", ["東京", "Tokyo", "大阪"]),
    ("Australia/Sydney", 3, "en", ["Sydney, NSW", "Melbourne"]),
    ("Europe/Tirane", 1, "sq", ["Tiranë", "Albania", "Shqipëri"]),
    ("Asia/Shanghai", 2, "zh", ["北京", "上海", "Beijing"]),
]
JOKE_LOCATIONS = ["Earth", "everywhere", "in your mind", "🌍", "the internet", "Hogwarts", "somewhere", "Mars"]

WORDS = {
    "en": "the people news today government election vote freedom economy war peace truth media city "
          "world report police school health family women rights power money street night morning "
          "support change voice history future country leaders justice story".split(),
    "de": "die leute heute regierung wahl freiheit wirtschaft krieg frieden wahrheit medien stadt welt "
          "bericht polizei schule gesundheit familie rechte macht geld strasse nacht morgen".split(),
    "fr": "les gens nouvelles aujourd'hui gouvernement élection liberté économie guerre paix vérité "
          "médias ville monde rapport police école santé famille droits pouvoir argent rue".split(),
    "es": "la gente noticias hoy gobierno elección libertad economía guerra paz verdad medios ciudad "
          "mundo informe policía escuela salud familia derechos poder dinero calle".split(),
    "ru": "люди новости сегодня правительство выборы свобода экономика война мир правда сми город "
          "отчёт полиция школа здоровье семья права власть деньги улица ночь утро".split(),
    "fa": "مردم اخبار امروز دولت انتخابات آزادی اقتصاد جنگ صلح حقیقت رسانه شهر جهان گزارش پلیس "
          "مدرسه سلامت خانواده حقوق قدرت پول خیابان شب صبح".split(),
    "ar": "الناس أخبار اليوم الحكومة الانتخابات الحرية الاقتصاد الحرب السلام الحقيقة الإعلام المدينة "
          "العالم تقرير الشرطة المدرسة الصحة العائلة الحقوق السلطة المال الشارع".split(),
    "pt": "as pessoas notícias hoje governo eleição liberdade economia guerra paz verdade mídia cidade "
          "mundo relatório polícia escola saúde família direitos poder dinheiro rua".split(),
    "ja": "人々 ニュース 今日 政府 選挙 自由 経済 戦争 平和 真実 メディア 都市 世界 報告 警察 学校 健康 家族 権利 力 お金 通り".split(),
    "sq": "njerëzit lajme sot qeveria zgjedhjet liria ekonomia lufta paqja e vërteta media qyteti bota "
          "raporti policia shkolla shëndeti familja të drejtat pushteti paraja".split(),
    "zh": "人民 新闻 今天 政府 选举 自由 经济 战争 和平 真相 媒体 城市 世界 报告 警察 学校 健康 家庭 权利 力量 金钱 街道".split(),
}

ORGANIC_CLIENTS = [("Twitter for iPhone", 0.44), ("Twitter for Android", 0.34), ("Twitter Web App", 0.16),
                   ("TweetDeck", 0.03), ("Twitter for iPad", 0.03)]
BOT_CLIENTS = ["IFTTT", "dlvr.it", "twittbot.net"]
OPERATION_CLIENTS = ["Twitter Web Client", "Hootsuite Inc.", "Buffer", "SocialFlow-Pro", "PostPlanner X"]

NEWS_DOMAINS = ["nytimes.com", "bbc.co.uk", "theguardian.com", "cnn.com", "washingtonpost.com", "reuters.com",
                "apnews.com", "spiegel.de", "lemonde.fr", "elpais.com", "folha.uol.com.br", "nhk.or.jp",
                "youtube.com", "instagram.com", "medium.com", "npr.org", "aljazeera.com", "dw.com"]
STATE_MEDIA = {  # operator zone -> state-affiliated outlets (from the State Media Matrix)
    "Asia/Tehran": ["presstv.ir", "hispantv.com", "tasnimnews.com"],
    "Europe/Moscow": ["rt.com", "sputniknews.com", "tass.com"],
    "Asia/Shanghai": ["cgtn.com", "globaltimes.cn", "xinhuanet.com"],
    "Europe/Tirane": ["rtsh.al"],
}
PROXY_WORDS = ["awd", "free", "true", "real", "voice", "truth", "insight", "daily", "world", "globe", "herald"]

HUMAN_HOURS = [1.2, 0.7, 0.4, 0.25, 0.2, 0.3, 0.8, 1.8, 2.6, 3.0, 3.1, 3.2, 3.4, 3.3, 3.2, 3.2, 3.3,
               3.5, 3.8, 4.2, 4.5, 4.3, 3.4, 2.2]
OFFICE_HOURS = [0, 0, 0, 0, 0, 0, 0, 0.2, 2.5, 4.0, 4.2, 4.1, 3.6, 0.6, 3.4, 4.0, 3.8, 2.2, 0.3, 0, 0, 0, 0, 0]
# index = hour of the local day; 13:00 is the lunch pause, the 8:00 and 18:00 shoulders are shift edges

WEEKEND = {"Asia/Tehran": (4,), "Asia/Riyadh": (4, 5), "default": (5, 6)}  # Monday = 0; Iran rests on Friday

PERSONAS = {
    "en": [("journalist at {outlet}", "journalist"), ("Reporter. Views my own.", "journalist"),
           ("Concerned citizen. Patriot. Mom.", "concerned citizen"),
           ("Independent analyst | geopolitics", "independent analyst"),
           ("Editor, {outlet}", "editor"), ("Activist for peace and justice", "activist")],
}
OUTLETS = ["The Free Herald", "World Insight Daily", "Global Voice News", "Liberty Times", "Real News Wire"]
CLAIMED_PLACES = ["New York, NY", "Los Angeles, CA", "Chicago, IL", "Texas, USA", "London, UK", "Washington, DC",
                  "Paris, France", "Berlin, Germany"]
