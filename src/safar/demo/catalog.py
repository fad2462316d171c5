"""Names, places, products and stores the demo generator draws from (invented for Safar)."""

from __future__ import annotations

FA_FIRST_F = (
    "سارا", "مریم", "زهرا", "فاطمه", "نرگس", "لیلا", "نیلوفر", "الهام", "شیرین", "مهسا",
    "پریسا", "آزاده", "سمیرا", "هستی", "یاسمن", "ترانه", "رها", "کیمیا", "مینا", "آناهیتا",
)  # fmt: skip
FA_FIRST_M = (
    "علی", "محمد", "رضا", "حسین", "امیر", "مهدی", "سعید", "بهرام", "کاوه", "آرش",
    "پویا", "نیما", "سینا", "بابک", "فرهاد", "کامران", "میلاد", "هومن", "داریوش", "پارسا",
)  # fmt: skip
FA_LAST = (
    "احمدی", "محمدی", "رضایی", "حسینی", "کریمی", "موسوی", "جعفری", "صادقی", "رحیمی",
    "نوری", "کاظمی", "تهرانی", "شیرازی", "اصفهانی", "قاسمی", "یزدانی", "فرهادی", "مرادی",
    "عباسی", "نجفی", "زمانی", "سلطانی", "اکبری", "بهرامی", "پارسا", "کیانی",
)  # fmt: skip
#: Latin spellings used for the email local part of Persian-speaking customers.
FA_LAST_LATIN = (
    "ahmadi", "mohammadi", "rezaei", "hosseini", "karimi", "mousavi", "jafari", "sadeghi",
    "rahimi", "nouri", "kazemi", "tehrani", "shirazi", "esfahani", "ghasemi", "yazdani",
    "farhadi", "moradi", "abbasi", "najafi", "zamani", "soltani", "akbari", "bahrami",
    "parsa", "kiani",
)  # fmt: skip
EN_FIRST_F = (
    "Emma", "Olivia", "Sophie", "Grace", "Chloe", "Hannah", "Lucy", "Mia", "Zara", "Leah",
    "Nadia", "Laura", "Anna", "Isla", "Ruby",
)  # fmt: skip
EN_FIRST_M = (
    "James", "Oliver", "Jack", "Daniel", "Samuel", "Thomas", "Adam", "Leo", "Ryan", "David",
    "Omar", "Lucas", "Noah", "Ethan", "Max",
)  # fmt: skip
EN_LAST = (
    "Smith", "Brown", "Taylor", "Wilson", "Clarke", "Walker", "Wright", "Hall", "Green",
    "Baker", "Hughes", "Khan", "Patel", "Murphy", "Cooper", "Rahimi", "Karimi",
)  # fmt: skip

FA_CITIES = ("تهران", "شیراز", "اصفهان", "مشهد", "تبریز", "کرج", "رشت", "اهواز", "یزد", "کرمان")
EN_CITIES = ("Toronto", "London", "Dubai", "Hamburg", "Vancouver", "Los Angeles", "Sydney")
FA_CITY_WEIGHTS = (30, 10, 10, 9, 8, 8, 6, 6, 7, 6)

#: (sku, Persian name, English name, category, price in thousand toman)
PRODUCTS: tuple[tuple[str, str, str, str, int], ...] = (
    ("SKU-101", "گوشی موبایل", "smartphone", "electronics", 18_500),
    ("SKU-102", "هدفون بی‌سیم", "wireless headphones", "electronics", 2_400),
    ("SKU-103", "کتری برقی", "electric kettle", "home", 1_350),
    ("SKU-104", "جاروبرقی", "vacuum cleaner", "home", 9_800),
    ("SKU-105", "زعفران یک مثقالی", "saffron (4.6 g)", "grocery", 480),
    ("SKU-106", "پسته‌ی اکبری", "Akbari pistachios", "grocery", 920),
    ("SKU-107", "سبد میوه", "fruit basket", "grocery", 650),
    ("SKU-108", "کفش ورزشی", "running shoes", "fashion", 3_200),
    ("SKU-109", "مانتوی تابستانی", "summer coat", "fashion", 1_900),
    ("SKU-110", "کتاب شاهنامه", "Shahnameh (illustrated)", "books", 780),
    ("SKU-111", "عطر زنانه", "perfume", "beauty", 2_750),
    ("SKU-112", "فرش ماشینی", "machine-woven rug", "home", 6_400),
    ("SKU-113", "ساعت هوشمند", "smartwatch", "electronics", 7_300),
    ("SKU-114", "چای لاهیجان", "Lahijan tea", "grocery", 310),
    ("SKU-115", "اسباب‌بازی آموزشی", "educational toy", "kids", 890),
)

STORES = (
    ("store-vanak", "شعبه‌ی ونک", "Vanak store"),
    ("store-shiraz", "شعبه‌ی شیراز", "Shiraz store"),
    ("store-isfahan", "شعبه‌ی اصفهان", "Isfahan store"),
)
PAGES = (
    ("Home", "/"),
    ("Category", "/c/electronics"),
    ("Category", "/c/grocery"),
    ("Search", "/search"),
    ("Deals", "/deals"),
    ("Product", "/p/"),
    ("Cart", "/cart"),
)
CAMPAIGNS = (
    ("nowruz_sale", "حراج نوروزی", "Nowruz sale"),
    ("yalda_offer", "پیشنهاد شب یلدا", "Yalda night offer"),
    ("weekly_picks", "پیشنهادهای هفته", "Weekly picks"),
    ("back_in_stock", "دوباره موجود شد", "Back in stock"),
    ("free_shipping", "ارسال رایگان", "Free shipping week"),
)
HOUSEHOLD_ROLES = ("head", "spouse", "child", "parent")
