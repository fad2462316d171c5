"""Feedback sentences of the demo, written for Safar in Persian and English.

Grouped by topic (delivery, price, quality, staff, app, payment) and sentiment (neg, pos, neu)
so the generator can make a review agree with what happened to the order: a late delivery
tends to get an angry delivery sentence, a smooth one praise. ``{product}`` is filled in with
the item ordered. Openers and closers vary the tone of longer texts.
"""

from __future__ import annotations

TOPICS: tuple[str, ...] = ("delivery", "price", "quality", "staff", "app", "payment")
SENTIMENTS: tuple[str, ...] = ("neg", "pos", "neu")

FEEDBACK: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "fa": {
        "delivery": {
            "neg": (
                "سفارشم سه روز دیرتر از زمانی که قول داده بودید رسید.",
                "پیک اصلاً زنگ نزد و بسته را جلوی در گذاشت و رفت.",
                "زمان ارسال را عوض کردید و هیچ پیامکی هم ندادید.",
                "{product} با جعبه‌ی له‌شده به دستم رسید.",
                "تا ساعت ده شب منتظر ماندم و خبری از پیک نشد.",
                "کد رهگیری از دیروز تکان نخورده و کسی جواب نمی‌دهد.",
                "نصف سفارش رسید و بقیه‌اش معلوم نیست کجاست.",
                "برای ارسال فوری هزینه دادم ولی مثل ارسال عادی رسید.",
                "پیک آدرس را پیدا نکرد و سفارش را برگرداند.",
                "دفعه‌ی دوم است که ارسال تأخیر دارد، واقعاً خسته شدم.",
                "بسته‌بندی خیس بود و {product} آسیب دیده بود.",
                "در برنامه نوشته بود تحویل شده ولی هیچ چیزی به دستم نرسیده.",
            ),
            "pos": (
                "سفارش زودتر از موعد رسید، خیلی غافلگیر شدم.",
                "پیک خیلی مؤدب بود و قبل از آمدن تماس گرفت.",
                "بسته‌بندی تمیز و محکم بود و {product} سالم رسید.",
                "همان روزی که سفارش دادم تحویل گرفتم، عالی بود.",
                "رهگیری سفارش دقیق بود و دقیقاً سر ساعت رسید.",
                "با اینکه باران می‌آمد، بسته کاملاً خشک و سالم بود.",
                "ارسال رایگان و سریع، دیگر از جای دیگری خرید نمی‌کنم.",
                "پیک صبر کرد تا بسته را باز کنم و سالم بودنش را ببینم.",
                "از تهران تا شیراز فقط دو روز طول کشید، ممنون.",
            ),
            "neu": (
                "سفارش در زمان اعلام‌شده رسید.",
                "ارسال معمولی بود، نه زود نه دیر.",
                "پیک ساعت چهار عصر آمد و بسته را تحویل داد.",
                "کاش امکان انتخاب بازه‌ی زمانی دقیق‌تر برای تحویل بود.",
            ),
        },
        "price": {
            "neg": (
                "قیمت {product} نسبت به هفته‌ی پیش خیلی بالا رفته.",
                "هزینه‌ی ارسال از خود کالا گران‌تر شد.",
                "تخفیفی که در پیامک گفته بودید موقع پرداخت اعمال نشد.",
                "همین {product} را در فروشگاه محله ارزان‌تر دیدم.",
                "قیمت در سبد خرید با قیمت صفحه‌ی محصول فرق داشت.",
                "برای این کیفیت، قیمت واقعاً زیاد است.",
                "کد تخفیف را زدم و نوشت منقضی شده، در حالی که دیروز فرستاده بودید.",
                "هر بار که سر می‌زنم قیمت‌ها عوض شده‌اند.",
                "حداقل خرید برای ارسال رایگان را بی‌دلیل بالا بردید.",
                "هزینه‌ی بسته‌بندی جداگانه حساب شد و قبلاً گفته نشده بود.",
            ),
            "pos": (
                "قیمت {product} از همه‌جا مناسب‌تر بود.",
                "با تخفیف آخر هفته خرید خیلی به‌صرفه‌ای کردم.",
                "ارزش خرید داشت، قیمت منصفانه است.",
                "کد تخفیف تولدم بدون مشکل اعمال شد، ممنون از لطفتان.",
                "قیمت‌ها شفاف است و هزینه‌ی پنهانی ندارد.",
                "باشگاه مشتریان واقعاً به صرفه است و امتیازها به کار می‌آید.",
                "نسبت به کیفیتش، {product} خیلی ارزان بود.",
                "ارسال رایگان برای خرید بالای پانصد هزار تومان عالی است.",
                "بازگشت وجه برای کالای ناموجود سریع انجام شد.",
            ),
            "neu": (
                "قیمت‌ها تقریباً مثل بقیه‌ی فروشگاه‌هاست.",
                "قیمت معقول بود ولی تخفیف خاصی نداشت.",
                "لطفاً قیمت به دلار را هم برای مشتریان خارج از کشور نشان دهید.",
                "کاش امکان پرداخت قسطی هم داشتید.",
            ),
        },
        "quality": {
            "neg": (
                "{product} بعد از دو روز خراب شد.",
                "جنس {product} با عکس سایت اصلاً یکی نیست.",
                "تاریخ انقضای محصول نزدیک بود و این را جایی ننوشته بودید.",
                "رنگ {product} با چیزی که سفارش دادم فرق داشت.",
                "بوی بدی می‌داد و مجبور شدم دورش بیندازم.",
                "سایز اشتباه فرستادید و حالا باید مرجوع کنم.",
                "کیفیتش خیلی پایین‌تر از انتظارم بود.",
                "قطعه‌ای از {product} در جعبه نبود.",
                "بعد از اولین شستشو رنگ داد.",
                "میوه‌ها نیمه‌خراب بودند و معلوم بود مانده‌اند.",
            ),
            "pos": (
                "کیفیت {product} فوق‌العاده است، دقیقاً همان که می‌خواستم.",
                "اصل بود و گارانتی معتبر داشت.",
                "از کیفیت ساخت {product} خیلی راضی‌ام.",
                "میوه‌ها تازه و خوش‌طعم بودند.",
                "دقیقاً مثل عکس و توضیحات سایت بود.",
                "چند ماه است استفاده می‌کنم و هنوز مثل روز اول است.",
                "مادرم هم از {product} خیلی خوشش آمد.",
                "جنسش عالی است و ارزش چند بار خرید را دارد.",
                "بسته‌ی هدیه خیلی شیک بود و همسرم ذوق کرد.",
            ),
            "neu": (
                "کیفیت {product} متوسط است، برای استفاده‌ی روزمره بد نیست.",
                "همان چیزی بود که انتظار داشتم، نه بیشتر نه کمتر.",
                "اندازه کمی کوچک‌تر از چیزی بود که فکر می‌کردم.",
                "کاش توضیحات محصول جزئیات بیشتری داشت.",
            ),
        },
        "staff": {
            "neg": (
                "پشتیبانی تلفنی نیم ساعت مرا پشت خط نگه داشت.",
                "کارشناس چت جواب‌های کلیشه‌ای می‌داد و مشکلم را نخواند.",
                "سه بار تماس گرفتم و هر بار باید از اول توضیح می‌دادم.",
                "فروشنده‌ی شعبه اصلاً حوصله‌ی جواب دادن نداشت.",
                "قول دادند تا فردا تماس بگیرند ولی هیچ‌کس زنگ نزد.",
                "پیک با لحن بدی صحبت کرد.",
                "تیکتم بدون هیچ جوابی بسته شد.",
                "ایمیل زدم و بعد از یک هفته هنوز پاسخی نگرفته‌ام.",
                "کارمند پشتیبانی گفت تقصیر خودتان است، خیلی ناراحت شدم.",
                "برای یک مرجوعی ساده مرا به چهار نفر مختلف وصل کردند.",
            ),
            "pos": (
                "خانم کارشناس پشتیبانی با حوصله همه چیز را توضیح داد.",
                "مشکلم در همان تماس اول حل شد، دستتان درد نکند.",
                "در چت خیلی سریع جواب دادند و مرجوعی را ثبت کردند.",
                "فروشنده‌ی شعبه‌ی ونک خیلی خوش‌برخورد و راهنما بود.",
                "پیک مهربان بود و کیسه‌ها را تا طبقه‌ی سوم آورد.",
                "کارشناس خودش پیگیری کرد و فردایش زنگ زد.",
                "برخوردشان حرفه‌ای و محترمانه بود.",
                "بابت تأخیر عذرخواهی کردند و یک کد تخفیف دادند، کار درستی بود.",
                "در اینستاگرام هم سریع پیامم را جواب دادند.",
            ),
            "neu": (
                "پشتیبانی جواب داد ولی کمی طول کشید.",
                "کارشناس گفت موضوع را به واحد مربوط ارجاع می‌دهد.",
                "در شعبه شلوغ بود ولی بالاخره نوبتم شد.",
                "ساعت کاری پشتیبانی را روی سایت واضح‌تر بنویسید.",
            ),
        },
        "app": {
            "neg": (
                "برنامه موقع پرداخت بسته می‌شود.",
                "بعد از به‌روزرسانی آخر نمی‌توانم وارد حسابم شوم.",
                "جست‌وجو در برنامه نتیجه‌های بی‌ربط نشان می‌دهد.",
                "کد تأیید پیامکی خیلی دیر می‌رسد.",
                "سبد خریدم خودبه‌خود خالی شد.",
                "برنامه خیلی کند است و صفحه‌ها دیر باز می‌شوند.",
                "اعلان‌های تبلیغاتی زیادی می‌فرستید و نمی‌شود خاموششان کرد.",
                "نسخه‌ی فارسی برنامه نیمه‌کاره است و بعضی دکمه‌ها انگلیسی‌اند.",
                "سایت روی گوشی درست نمایش داده نمی‌شود.",
                "آدرس ذخیره‌شده‌ام مدام پاک می‌شود.",
            ),
            "pos": (
                "برنامه‌ی جدید خیلی روان و ساده است.",
                "رهگیری سفارش در برنامه عالی شده.",
                "با چند کلیک خرید کردم، تجربه‌ی خوبی بود.",
                "حالت شب برنامه چشم را اذیت نمی‌کند، ممنون.",
                "پیشنهادهای برنامه واقعاً به سلیقه‌ام می‌خورد.",
                "ورود با کد یک‌بارمصرف خیلی راحت است.",
                "سایت سریع است و پیدا کردن {product} آسان بود.",
                "ذخیره‌ی سبد خرید بین گوشی و لپ‌تاپ خیلی کاربردی است.",
                "فیلترهای جست‌وجو دقیق و به‌دردبخورند.",
            ),
            "neu": (
                "برنامه خوب است ولی جای بهتر شدن دارد.",
                "کاش می‌شد فاکتور را از داخل برنامه دانلود کرد.",
                "گاهی عکس محصولات دیر بارگذاری می‌شود.",
                "لطفاً امکان مقایسه‌ی محصولات را هم اضافه کنید.",
            ),
        },
        "payment": {
            "neg": (
                "پول از حسابم کم شد ولی سفارش ثبت نشد.",
                "درگاه پرداخت دو بار خطا داد.",
                "بازگشت وجه سفارش لغوشده بیش از ده روز طول کشید.",
                "مبلغ دو بار از کارتم برداشت شد.",
                "کیف پول برنامه شارژ شد ولی موجودی نشان نمی‌دهد.",
                "پرداخت در محل را بدون اطلاع حذف کردید.",
                "رمز دوم را زدم و صفحه‌ی پرداخت منقضی شد.",
                "فاکتور رسمی را با وجود چند بار درخواست نفرستادید.",
                "پیک دستگاه کارت‌خوان نداشت و مجبور شدم پول نقد جور کنم.",
                "هزینه‌ی لغو سفارش را بی‌دلیل از من کم کردید.",
            ),
            "pos": (
                "پرداخت سریع و بدون مشکل انجام شد.",
                "پول سفارش لغوشده همان روز برگشت.",
                "پرداخت با کیف پول خیلی راحت است.",
                "امکان پرداخت در محل برای من خیلی مهم است، ممنون.",
                "فاکتور دقیق و کامل به ایمیلم آمد.",
                "درگاه پرداخت امن و سریع است.",
                "پرداخت قسطی کمک بزرگی برای خرید {product} بود.",
                "مبلغ اضافه را خودتان برگرداندید، خیلی منصف هستید.",
                "دستگاه کارت‌خوان پیک خیلی سریع کار کرد.",
            ),
            "neu": (
                "پرداخت انجام شد ولی پیامک تأییدش دیر آمد.",
                "کاش روش‌های پرداخت بیشتری داشتید.",
                "درگاه پرداخت کمی کند بود ولی کار کرد.",
                "برای مشتریان خارج از کشور پرداخت با کارت خارجی را فعال کنید.",
            ),
        },
    },
    "en": {
        "delivery": {
            "neg": (
                "My order arrived three days later than promised.",
                "The courier never rang the bell and just left the box outside.",
                "You changed the delivery date without sending a single text.",
                "The {product} arrived in a crushed box.",
                "I waited in until 10 pm and nobody showed up.",
                "The tracking number hasn't moved since yesterday and nobody answers.",
                "Only half of the order arrived and no one knows where the rest is.",
                "I paid for express shipping and it came like a normal delivery.",
                "The driver couldn't find the address and sent the parcel back.",
                "Second late delivery in a row, I'm honestly fed up.",
                "The packaging was soaked and the {product} got damaged.",
                "The app says delivered but nothing ever reached me.",
            ),
            "pos": (
                "It arrived a day early, which was a lovely surprise.",
                "The courier was polite and called before coming.",
                "Neat, sturdy packaging and the {product} arrived in perfect shape.",
                "Ordered in the morning, had it by the evening. Brilliant.",
                "Tracking was spot on and it turned up right on time.",
                "Even in the pouring rain the parcel was completely dry.",
                "Free and fast shipping, I'm not shopping anywhere else now.",
                "The driver waited while I checked the {product} was intact.",
                "Only two days from the warehouse to my door, thank you.",
            ),
            "neu": (
                "The order arrived within the announced window.",
                "Delivery was fine, neither early nor late.",
                "The courier came at 4 pm and handed over the parcel.",
                "A narrower delivery time slot would be nice.",
            ),
        },
        "price": {
            "neg": (
                "The price of the {product} jumped since last week.",
                "Shipping cost more than the item itself.",
                "The discount from your text message wasn't applied at checkout.",
                "I found the same {product} cheaper at my local shop.",
                "The basket showed a different price from the product page.",
                "Far too expensive for this quality.",
                "The voucher you sent yesterday says it has expired.",
                "Prices seem to change every time I open the site.",
                "You raised the free-shipping minimum for no reason.",
                "I was charged for gift wrapping that was never mentioned.",
            ),
            "pos": (
                "The best price for the {product} I could find anywhere.",
                "The weekend sale made it a real bargain.",
                "Good value for money, the price is fair.",
                "My birthday voucher worked without a hitch, thank you.",
                "Transparent pricing with no hidden fees.",
                "The loyalty points actually add up to something useful.",
                "For its quality the {product} was remarkably cheap.",
                "Free shipping over a modest minimum is great.",
                "The refund for the out-of-stock item came quickly.",
            ),
            "neu": (
                "Prices are about the same as other shops.",
                "Reasonable price but no special offer.",
                "Please show prices in euros for customers abroad.",
                "Pay-in-instalments would be a welcome option.",
            ),
        },
        "quality": {
            "neg": (
                "The {product} broke after two days.",
                "The material looks nothing like the photos on the site.",
                "The best-before date was very close and that wasn't mentioned anywhere.",
                "The {product} came in a different colour from the one I ordered.",
                "It smelled awful and I had to throw it away.",
                "You sent the wrong size and now I have to return it.",
                "The quality was well below what I expected.",
                "A part of the {product} was missing from the box.",
                "The colour ran after the first wash.",
                "Half the fruit was bruised and clearly old.",
            ),
            "pos": (
                "The {product} is superb, exactly what I wanted.",
                "Genuine product with a valid warranty.",
                "Really pleased with how well the {product} is made.",
                "The fruit was fresh and delicious.",
                "Exactly as pictured and described.",
                "Been using it for months and it still works like new.",
                "My mum loved the {product} too.",
                "Great material, worth buying again.",
                "The gift box was beautiful and my wife was delighted.",
            ),
            "neu": (
                "The {product} is average, fine for everyday use.",
                "It was what I expected, no more, no less.",
                "A bit smaller than I imagined.",
                "The product description could use more detail.",
            ),
        },
        "staff": {
            "neg": (
                "Phone support kept me on hold for half an hour.",
                "The chat agent pasted canned replies and never read my problem.",
                "I called three times and had to explain everything from scratch each time.",
                "The shop assistant couldn't be bothered to answer my question.",
                "They promised a call back by tomorrow and nobody called.",
                "The driver was rude to me.",
                "My ticket was closed without any answer.",
                "I emailed a week ago and still have no reply.",
                "The agent told me it was my own fault, which was upsetting.",
                "A simple return got me bounced between four different people.",
            ),
            "pos": (
                "The support agent patiently explained everything.",
                "My issue was solved on the first call, thank you.",
                "Chat support replied in minutes and booked the return.",
                "The staff at the city-centre store were friendly and helpful.",
                "The driver kindly carried the bags up to the third floor.",
                "The agent followed up herself and called me the next day.",
                "Professional and respectful from start to finish.",
                "They apologised for the delay and gave me a voucher, well handled.",
                "They answered my Instagram message quickly too.",
            ),
            "neu": (
                "Support answered, but it took a while.",
                "The agent said the case would be passed to the right team.",
                "The store was busy but I was served eventually.",
                "Please make support opening hours clearer on the site.",
            ),
        },
        "app": {
            "neg": (
                "The app crashes at checkout.",
                "Since the last update I can't log in.",
                "Search returns completely irrelevant results.",
                "The SMS verification code takes ages to arrive.",
                "My basket emptied itself.",
                "The app is slow and pages take forever to load.",
                "Too many promotional notifications and no way to turn them off.",
                "The Persian version is half translated and some buttons are in English.",
                "The website doesn't display properly on my phone.",
                "My saved address keeps disappearing.",
            ),
            "pos": (
                "The new app is smooth and simple.",
                "Order tracking in the app is excellent now.",
                "Bought it in a few taps, a really nice experience.",
                "Dark mode is easy on the eyes, thanks.",
                "The recommendations actually match my taste.",
                "Logging in with a one-time code is so convenient.",
                "The site is fast and finding the {product} was easy.",
                "The basket syncing between phone and laptop is really handy.",
                "Search filters are precise and useful.",
            ),
            "neu": (
                "The app is fine but has room to improve.",
                "It would be good to download invoices in the app.",
                "Product photos sometimes load slowly.",
                "Please add a way to compare products.",
            ),
        },
        "payment": {
            "neg": (
                "Money left my account but the order was never placed.",
                "The payment page failed twice.",
                "The refund for my cancelled order took more than ten days.",
                "I was charged twice for the same order.",
                "I topped up the wallet but the balance still shows zero.",
                "You removed cash on delivery without telling anyone.",
                "The payment page timed out while I was typing the code.",
                "I asked several times for a proper invoice and never got one.",
                "The driver had no card reader so I had to find cash.",
                "You charged me a cancellation fee for no reason.",
            ),
            "pos": (
                "Payment was quick and painless.",
                "The refund for my cancelled order came back the same day.",
                "Paying with the wallet is very convenient.",
                "Cash on delivery matters a lot to me, thank you for keeping it.",
                "A clear, complete invoice arrived by email.",
                "The payment page feels secure and fast.",
                "Paying in instalments made the {product} affordable.",
                "You refunded the overcharge yourselves, very fair.",
                "The courier's card reader worked instantly.",
            ),
            "neu": (
                "Payment went through but the confirmation text came late.",
                "More payment options would be welcome.",
                "The payment page was slow but it worked.",
                "Please accept foreign cards for customers abroad.",
            ),
        },
    },
}

OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "fa": {
        "neg": (
            "واقعاً ناامید شدم.",
            "متأسفانه این بار تجربه‌ی خوبی نبود.",
            "سلام، می‌خواستم شکایتم را ثبت کنم.",
            "چندمین بار است که این مشکل پیش می‌آید.",
            "انتظار نداشتم از شما.",
        ),
        "pos": (
            "سلام و خسته نباشید.",
            "واقعاً از شما ممنونم.",
            "اولین خریدم بود و راضی بودم.",
            "مثل همیشه عالی.",
            "می‌خواستم تشکر کنم.",
        ),
        "neu": ("سلام.", "یک پیشنهاد داشتم.", "در کل بد نبود."),
    },
    "en": {
        "neg": (
            "Really disappointed.",
            "Sadly not a good experience this time.",
            "Hi, I want to file a complaint.",
            "This keeps happening.",
            "I expected better from you.",
        ),
        "pos": (
            "Hi there!",
            "Thank you so much.",
            "First order and I'm impressed.",
            "Great as always.",
            "Just wanted to say thanks.",
        ),
        "neu": ("Hello.", "A small suggestion.", "Overall it was okay."),
    },
}

CLOSERS: dict[str, dict[str, tuple[str, ...]]] = {
    "fa": {
        "neg": (
            "لطفاً پیگیری کنید.",
            "اگر حل نشود دیگر خرید نمی‌کنم.",
            "منتظر جوابتان هستم.",
            "پولم را پس می‌خواهم.",
        ),
        "pos": ("حتماً به دوستانم معرفی می‌کنم.", "باز هم خرید می‌کنم.", "موفق باشید."),
        "neu": ("ممنون.", "با تشکر."),
    },
    "en": {
        "neg": (
            "Please sort this out.",
            "If this isn't fixed I'm done ordering.",
            "Waiting for your reply.",
            "I want my money back.",
        ),
        "pos": ("Will recommend you to friends.", "I'll definitely order again.", "Keep it up!"),
        "neu": ("Thanks.", "Regards."),
    },
}

#: Short chat lines a customer opens a support chat with, by the problem at hand.
CHAT_OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "fa": {
        "late": ("سلام، سفارشم کجاست؟", "سفارشم هنوز نرسیده، لطفاً بررسی کنید."),
        "damaged": ("سلام، کالا آسیب‌دیده رسیده، چطور مرجوع کنم؟",),
        "payment": ("پول از حسابم کم شده ولی سفارش ثبت نشده.",),
        "question": ("سلام، این محصول گارانتی دارد؟", "ارسال به شهرستان چند روز طول می‌کشد؟"),
    },
    "en": {
        "late": ("Hi, where is my order?", "My order still hasn't arrived, can you check?"),
        "damaged": ("Hi, my item arrived damaged, how do I return it?",),
        "payment": ("I was charged but the order isn't showing.",),
        "question": ("Does this product have a warranty?", "How long does shipping abroad take?"),
    },
}


def sentence_count() -> int:
    """Distinct hand-written sentences (for the docs and a test)."""
    seen: set[str] = set()
    for lang in FEEDBACK.values():
        for topic in lang.values():
            for group in topic.values():
                seen.update(group)
    for table in (OPENERS, CLOSERS):
        for lang_table in table.values():
            for group in lang_table.values():
                seen.update(group)
    for chat in CHAT_OPENERS.values():
        for group in chat.values():
            seen.update(group)
    return len(seen)
