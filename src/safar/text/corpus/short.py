"""Short stand-alone reviews, written for Safar (Apache-2.0), as customers type them in apps.

Real review streams are mostly short and mostly positive; the composed corpus is long and
complaint-heavy. These are added as they are (not composed), each with all four labels:
(text, sentiment, emotion, intent, category).
"""

from __future__ import annotations

Row = tuple[str, str, str, str, str]

FA: list[Row] = [
    ("خیلی خوشمزه بود مرسی", "positive", "joy", "praise", "quality"),
    ("عالی بود مثل همیشه", "positive", "joy", "praise", "quality"),
    ("سرد رسید ولی خوب بود", "positive", "other", "praise", "delivery"),
    ("کیفیت غذا خوب بود", "positive", "joy", "praise", "quality"),
    ("داغ و به موقع رسید", "positive", "joy", "praise", "delivery"),
    ("پیک خیلی مودب بود", "positive", "joy", "praise", "delivery"),
    ("خوب بود", "positive", "other", "praise", "other"),
    ("بد نبود", "positive", "other", "praise", "other"),
    ("نسبتا خوب بود", "positive", "other", "praise", "quality"),
    ("همه چی خوب بود ممنون", "positive", "joy", "praise", "other"),
    ("طعمش عالی بود حتما دوباره سفارش میدم", "positive", "joy", "praise", "quality"),
    ("حجمش کم بود ولی خوشمزه بود", "positive", "other", "praise", "quality"),
    ("پیتزا تازه و داغ بود", "positive", "joy", "praise", "quality"),
    ("سریع رسید دستتون درد نکنه", "positive", "joy", "praise", "delivery"),
    ("قیمتش مناسب بود و کیفیتش خوب", "positive", "joy", "praise", "price"),
    ("مثل همیشه عالی", "positive", "joy", "praise", "quality"),
    ("خیلی چسبید", "positive", "joy", "praise", "quality"),
    ("گوشتش تازه بود", "positive", "other", "praise", "quality"),
    ("بسته بندی تمیز و مرتب بود", "positive", "other", "praise", "delivery"),
    ("زودتر از زمان اعلام شده رسید", "positive", "surprise", "praise", "delivery"),
    ("ممنون از رستوران خوبتون", "positive", "joy", "praise", "service"),
    ("واقعا عالی بود", "positive", "joy", "praise", "quality"),
    ("کیفیت و کمیت خوب", "positive", "other", "praise", "quality"),
    ("خوشمزه و تازه", "positive", "joy", "praise", "quality"),
    ("از همه لحاظ راضی بودم", "positive", "joy", "praise", "other"),
    ("همه چیز درجه یک بود", "positive", "joy", "praise", "quality"),
    ("سس اضافه هم گذاشته بودن مرسی", "positive", "joy", "praise", "service"),
    ("کمی دیر رسید ولی غذا عالی بود", "positive", "other", "praise", "quality"),
    ("برنامه راحته و سریع", "positive", "joy", "praise", "app"),
    ("پرداخت راحت بود", "positive", "other", "praise", "payment"),
    ("پشتیبانی سریع جواب داد ممنون", "positive", "joy", "praise", "service"),
    ("به نسبت قیمت خیلی خوب بود", "positive", "other", "praise", "price"),
    ("سالاد تازه بود و سسش خوشمزه", "positive", "joy", "praise", "quality"),
    ("پیشنهاد میکنم", "positive", "joy", "praise", "other"),
    ("بهترین کباب محله", "positive", "joy", "praise", "quality"),
    ("خیلی خوب و به صرفه", "positive", "joy", "praise", "price"),
    ("معمولی بود", "neutral", "other", "other", "quality"),
    ("سفارش رسید", "neutral", "other", "other", "delivery"),
    ("نوشابه رو یادتون نره لطفا", "neutral", "other", "request", "delivery"),
    ("ساعت کاری شما تا کیه؟", "neutral", "other", "question", "other"),
    ("بار اولم بود سفارش دادم", "neutral", "other", "other", "other"),
    ("سرد بود و دیر رسید", "negative", "sadness", "complaint", "delivery"),
    ("اصلا خوب نبود", "negative", "sadness", "complaint", "quality"),
    ("گوشتش بو میداد", "negative", "disgust", "complaint", "quality"),
    ("یک ساعت دیر رسید", "negative", "anger", "complaint", "delivery"),
    ("نوشابه رو نفرستادن", "negative", "anger", "complaint", "delivery"),
    ("خیلی شور بود", "negative", "other", "complaint", "quality"),
    ("حجمش خیلی کم بود برای این قیمت", "negative", "other", "complaint", "price"),
    ("دیگه سفارش نمیدم", "negative", "anger", "churn", "other"),
    ("نون خمیر بود", "negative", "other", "complaint", "quality"),
    ("کیفیتش نسبت به قبل افت کرده", "negative", "sadness", "complaint", "quality"),
    ("سفارش اشتباه اومد", "negative", "anger", "complaint", "delivery"),
]

EN: list[Row] = [
    ("Tasty and hot, thanks!", "positive", "joy", "praise", "quality"),
    ("great as always", "positive", "joy", "praise", "quality"),
    ("arrived a bit cold but still good", "positive", "other", "praise", "delivery"),
    ("good food, fast delivery", "positive", "joy", "praise", "delivery"),
    ("the driver was very polite", "positive", "joy", "praise", "delivery"),
    ("not bad", "positive", "other", "praise", "other"),
    ("pretty good", "positive", "other", "praise", "other"),
    ("love this app", "positive", "joy", "praise", "app"),
    ("thanks for the quick reply", "positive", "joy", "praise", "service"),
    ("smooth flight, friendly crew", "positive", "joy", "praise", "service"),
    ("on time and easy check-in, thank you", "positive", "joy", "praise", "service"),
    ("good value for money", "positive", "other", "praise", "price"),
    ("everything was fine, thanks", "positive", "other", "praise", "other"),
    ("would order again", "positive", "joy", "praise", "quality"),
    (
        "customer service sorted it out in minutes, great job",
        "positive",
        "joy",
        "praise",
        "service",
    ),
    ("easy payment, no problems", "positive", "other", "praise", "payment"),
    ("a bit pricey but worth it", "positive", "other", "praise", "price"),
    ("fresh and well packed", "positive", "other", "praise", "delivery"),
    ("thank you!!", "positive", "joy", "praise", "other"),
    ("nice, quick and simple", "positive", "joy", "praise", "app"),
    ("ok", "neutral", "other", "other", "other"),
    ("it was average", "neutral", "other", "other", "quality"),
    ("what time does boarding start?", "neutral", "other", "question", "other"),
    ("is there a direct flight tomorrow?", "neutral", "other", "question", "other"),
    ("I changed my seat online", "neutral", "other", "other", "other"),
    ("please send the receipt by email", "neutral", "other", "request", "payment"),
    ("flight landed at 6", "neutral", "other", "other", "other"),
    ("cold and late", "negative", "sadness", "complaint", "delivery"),
    ("flight delayed again, no updates", "negative", "anger", "complaint", "delivery"),
    ("lost my bag, nobody answers", "negative", "anger", "complaint", "delivery"),
    ("way too salty", "negative", "other", "complaint", "quality"),
    ("never ordering again", "negative", "anger", "churn", "other"),
    ("app keeps crashing", "negative", "anger", "complaint", "app"),
    ("on hold for an hour", "negative", "anger", "complaint", "service"),
]


def rows() -> list[tuple[str, str, str, str, str, str]]:
    """(text, language, sentiment, emotion, intent, category) for every short review."""
    return [
        (text, lang, sentiment, emotion, intent, category)
        for lang, items in (("fa", FA), ("en", EN))
        for text, sentiment, emotion, intent, category in items
    ]
