-- 013: right by law and by the calendar (issue 13). The holiday calendar
-- with a source per day and a status per year (decided or provisional),
-- the due date's status in the officials' answers; PAPI's own names;
-- unit kind special_zone; reports of corruption recognised and routed to
-- the inspection unit above the place; complaints that fit no category
-- left to triage.

-------------------------------------------------------------------------
-- Calendar: every day off or worked back names its source; every year
-- is decided (the government's decisions are out) or provisional (the
-- Labour Code's days, to be confirmed).
-------------------------------------------------------------------------

ALTER TABLE pakn.holiday ADD COLUMN source text;
COMMENT ON COLUMN pakn.holiday.source IS
	'the law or decision that makes the day a holiday or a workday';

CREATE TABLE pakn.holiday_year (
	year       integer PRIMARY KEY CHECK (year BETWEEN 1900 AND 9999),
	status     text NOT NULL CHECK (status IN ('decided', 'provisional')),
	source     text NOT NULL CHECK (source <> ''),
	updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pakn.holiday_year IS
	'per year: are its days off decided by the government, and by what';

-- The Labour Code: art. 112 (1/1, Tết 5 days, Hùng Kings 10/3 lunar,
-- 30/4, 1/5, 2/9 and a day beside it; the Prime Minister fixes Tết's and
-- 2/9's days each year) and art. 111(3) (a holiday on a weekly rest day
-- is taken on the next working day).
UPDATE pakn.holiday SET source = 'Bộ luật Lao động 2019 (45/2019/QH14), Điều 112'
 WHERE source IS NULL;
UPDATE pakn.holiday SET source = 'Bộ luật Lao động 2019, Điều 111 khoản 3 (nghỉ bù ngày lễ trùng ngày nghỉ hằng tuần)'
 WHERE day IN ('2026-04-27', '2027-05-03', '2027-02-10', '2027-02-11');
-- 2025: the swap of Friday 2 May with Saturday 26 April was announced
-- for civil servants by the Ministry of Home Affairs in April 2025.
UPDATE pakn.holiday SET source = 'Hoán đổi ngày làm việc 2025 của Bộ Nội vụ (nghỉ thứ Sáu 2/5, làm bù thứ Bảy 26/4/2025)'
 WHERE day IN ('2025-04-26', '2025-05-02');

-- 2026 as decided. New Year: Friday 2 January off, worked back on
-- Saturday 10 January (Government Office letter 12729/VPCP-KGVX).
-- National Day: Monday 31 August off with 1-2 September, worked back on
-- Saturday 22 August (Ministry of Home Affairs notice 9441/TB-BNV).
INSERT INTO pakn.holiday (day, kind, name, source) VALUES
	('2026-01-02', 'holiday', 'Tết Dương lịch (nghỉ hoán đổi, làm bù 10/1)',
		'Công văn 12729/VPCP-KGVX của Văn phòng Chính phủ'),
	('2026-01-10', 'workday', 'Làm bù cho ngày 2/1',
		'Công văn 12729/VPCP-KGVX của Văn phòng Chính phủ'),
	('2026-08-22', 'workday', 'Làm bù cho ngày 31/8',
		'Thông báo 9441/TB-BNV của Bộ Nội vụ'),
	('2026-08-31', 'holiday', 'Quốc khánh (nghỉ hoán đổi, làm bù 22/8)',
		'Thông báo 9441/TB-BNV của Bộ Nội vụ')
ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name,
	source = excluded.source;
UPDATE pakn.holiday SET source = 'Bộ luật Lao động 2019, Điều 112; Thông báo 9441/TB-BNV của Bộ Nội vụ'
 WHERE day IN ('2026-09-01', '2026-09-02');

-- 2027 until decided: Tết Đinh Mùi is Saturday 6 February 2027 (mùng 1);
-- tháng Chạp has 29 days, so Friday 5 February is 29 tháng Chạp (the
-- eve). Tết's five days are 5-9 February; mùng 1 and 2 fall on the
-- weekend and are taken on 10 and 11 February (art. 111(3)).
UPDATE pakn.holiday SET name = 'Tết Nguyên đán (29 tháng Chạp)'
 WHERE day = '2027-02-05';
INSERT INTO pakn.holiday (day, kind, name, source) VALUES
	('2027-02-06', 'holiday', 'Tết Nguyên đán (mùng 1, thứ Bảy)',
		'Bộ luật Lao động 2019 (45/2019/QH14), Điều 112'),
	('2027-02-07', 'holiday', 'Tết Nguyên đán (mùng 2, Chủ nhật)',
		'Bộ luật Lao động 2019 (45/2019/QH14), Điều 112')
ON CONFLICT (day) DO NOTHING;
UPDATE pakn.holiday SET source = 'Dự kiến: ' || source
 WHERE extract(year FROM day) = 2027 AND source NOT LIKE 'Dự kiến%';

ALTER TABLE pakn.holiday ALTER COLUMN source SET NOT NULL,
	ADD CONSTRAINT holiday_source_check CHECK (source <> '');

INSERT INTO pakn.holiday_year (year, status, source) VALUES
	(2025, 'decided', 'Bộ luật Lao động 2019, Điều 111, 112; lịch nghỉ Tết và Quốc khánh 2025 do Thủ tướng quyết định; hoán đổi 2/5 của Bộ Nội vụ'),
	(2026, 'decided', 'Bộ luật Lao động 2019, Điều 111, 112; Công văn 12729/VPCP-KGVX (Tết Dương lịch); Thông báo 9441/TB-BNV (Quốc khánh)'),
	(2027, 'provisional', 'Dự kiến theo Bộ luật Lao động 2019, Điều 111, 112; chờ quyết định của Thủ tướng về Tết và Quốc khánh 2027');

UPDATE pakn.template SET body = replace(body, 'hạn {due}:', 'hạn {due}{due_note}:')
 WHERE code = 'new_complaint' AND body NOT LIKE '%{due_note}%';
UPDATE pakn.template SET body = replace(body, 'hạn trả lời {due}.', 'hạn trả lời {due}{due_note}.')
 WHERE code = 'reminder' AND body NOT LIKE '%{due_note}%';

-------------------------------------------------------------------------
-- PAPI's own names (papi.org.vn): dimension 2 is about decision-making,
-- dimension 3 is vertical accountability. The API, the dashboard, the
-- reports and the USSD menus read them from this table.
-------------------------------------------------------------------------

UPDATE pakn.papi_dimension
   SET name_vi = 'Công khai, minh bạch trong việc ra quyết định ở địa phương',
       name_en = 'Transparency in Local Decision-making'
 WHERE code = 2;
UPDATE pakn.papi_dimension
   SET name_en = 'Vertical Accountability Towards Citizens'
 WHERE code = 3;

-------------------------------------------------------------------------
-- Unit kinds. Since 1 July 2025 (the Law on Organisation of Local
-- Government 2025; Resolution 202/2025/QH15 on the provinces and the
-- Standing Committee's resolutions on each province's communes) there
-- are two levels: 34 provinces, and communes, wards and special zones
-- (đặc khu, island units such as Côn Đảo or Phú Quốc; 13 in the
-- statistics office's list, letter 1027/CTK-CSCL). Kind 'district'
-- stays for units and data from before that date (legacy).
-------------------------------------------------------------------------

ALTER TABLE pakn.unit DROP CONSTRAINT unit_kind_check,
	ADD CONSTRAINT unit_kind_check CHECK (kind IN ('province', 'district',
		'commune', 'special_zone', 'department'));
COMMENT ON COLUMN pakn.unit.kind IS
	'province; commune (xã, phường) or special_zone (đặc khu), each standing for its People''s Committee; department; district: legacy, before 1 July 2025';

-------------------------------------------------------------------------
-- Reports of corruption and abuse of office (sensitive categories) go to
-- an inspection unit above the place where it happened, never to that
-- place's units or officials. Each province names its inspection unit
-- (the provincial inspectorate, or the Party inspection commission):
-- pakn.unit.inspection_unit, set by `paknctl import-units`.
-------------------------------------------------------------------------

ALTER TABLE pakn.unit ADD COLUMN inspection_unit text
	REFERENCES pakn.unit (code) DEFERRABLE INITIALLY DEFERRED;
COMMENT ON COLUMN pakn.unit.inspection_unit IS
	'the unit that handles sensitive reports (corruption) about this unit''s territory: the provincial inspectorate or the Party inspection commission';

-------------------------------------------------------------------------
-- Classification as people type. pakn.untype undoes what phones and
-- keyboards leave in a message (Telex and VNI tone keys, numbers of any
-- size); pakn.category_of classifies the result with pakn.classify,
-- except that a keyword of a sensitive category wins over any other: a
-- bribe asked for a land title is a bribe, whatever its length.
-------------------------------------------------------------------------

-- Folded text (pakn.fold) with typing habits undone: VNI tone digits
-- after a letter ("pha3n a1nh", "d9"), Telex tone keys at a word's end
-- (s f r x j: no Vietnamese word ends so) and doubled letters (dd aa ee
-- oo, aw ow uw; w after a consonant is ư), and any number written 0 ("5 triệu", "2,5tr", "500k"
-- become "0 trieu", "0tr", "0k") so keywords can name an amount.
CREATE FUNCTION pakn.untype(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(
		regexp_replace(regexp_replace(regexp_replace(regexp_replace(
		regexp_replace(pakn.fold(s),
		'([a-z])[1-9]+(?=[a-z]|[^a-z0-9]|$)', '\1', 'g'),
		'([a-z][a-z])[sfrxj](?=[^a-z0-9]|$)', '\1', 'g'),
		'dd', 'd', 'g'),
		'([aeo])\1', '\1', 'g'),
		'([aou])w', '\1', 'g'),
		'([b-df-hj-np-tv-z])w', '\1u', 'g'),
		'[0-9]+([.,][0-9]+)*', '0', 'g'),
		'\m0 ?(trieu|tr|nghin|ngan|k|cu|lit|xi)\M', '0 \1', 'g')
$$;

-- pakn.fold_words of untyped text.
CREATE FUNCTION pakn.untype_words(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT ' ' || btrim(regexp_replace(pakn.untype(s), '[^a-z0-9]+', ' ',
		'g')) || ' '
$$;

-- A category's keywords untyped (pakn.untype_words), kept with the
-- category when it is written: every message is compared with them, and
-- untyping them per message cost 8 ms.
CREATE FUNCTION pakn.untyped_patterns(keywords text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT coalesce(array_agg(p), '{}') FROM (
		SELECT pakn.untype_words(k) AS p FROM unnest(keywords) k) x
	 WHERE p <> '  '
$$;
ALTER TABLE pakn.category ADD COLUMN untyped text[]
	GENERATED ALWAYS AS (pakn.untyped_patterns(keywords)) STORED;
COMMENT ON COLUMN pakn.category.untyped IS
	'keywords as pakn.untype_words writes them (sensitive categories match on these)';

-- A complaint that fits no category waits for the receiving unit to
-- classify it (triage) instead of passing silently as 'general'.
ALTER TABLE pakn.complaint ADD COLUMN triage boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN pakn.complaint.triage IS
	'fits no category: the receiving unit classifies it (POST .../classify)';
CREATE INDEX complaint_triage_idx ON pakn.complaint (responsible_unit)
	WHERE triage AND status = 'open';

-- Reports of bribery, extortion, embezzlement, nepotism and abuse of
-- office as people write them (matched untyped, so with or without
-- diacritics; an amount is any number: "đòi 5 triệu" matches "doi
-- 10tr"). Words that are ordinary on their own ("vòi" is also a tap and,
-- folded, "với"; "người nhà" and "bồi dưỡng" have innocent uses) appear
-- only in phrases.
UPDATE pakn.category SET keywords = '{tham nhũng,tiêu cực,hối lộ,ăn hối lộ,nhận hối lộ,đưa hối lộ,lót tay,tiền lót tay,phong bì,phong bao,bôi trơn,tiền cà phê,tiền bồi dưỡng,phải bồi dưỡng,bồi dưỡng thêm,đòi bồi dưỡng,bồi dưỡng cho cán bộ,xin tiền,vòi tiền,vòi vĩnh,vòi quà,vòi 2 chỉ,đòi tiền,đòi quà,phải có quà,đòi 5 triệu,đòi 5tr,đòi 500k,đòi 500 nghìn,xin 5 triệu,xin 5tr,đưa tiền,đưa 5 triệu,nộp 5 triệu để,nộp 5tr để,chi tiền mới,5 triệu mới,5tr mới,500k mới,làm luật,ăn tiền,nhận tiền rồi,nhận tiền của,nhận tiền chạy,nhận tiền làm ngơ,làm ngơ cho,chạy việc,chạy chức,chạy trường,chạy án,chạy sổ,chạy dự án,tiền chạy,mua chức,bán chức,bán suất,bảo kê,nhũng nhiễu,sách nhiễu,tham ô,biển thủ,ăn chặn,cắt xén,bớt xén,ăn bớt,xà xẻo,rút ruột,chiếm đoạt,khai khống,trục lợi,thâu tóm,người nhà chủ tịch,người nhà của chủ tịch,người nhà lãnh đạo,người nhà của lãnh đạo,người nhà cán bộ,toàn người nhà,cho người nhà,con ông cháu cha,con cháu lãnh đạo,lạm quyền,lộng quyền,lạm dụng chức vụ,lợi dụng chức vụ,bao che,làm giả giấy tờ,làm sai lệch hồ sơ}'
 WHERE code = 'corruption';

-- The other categories: phrases people use, abbreviations (ko, k, cb)
-- and fewer bare words that mislead ("điện" is also in "điện thoại").
UPDATE pakn.category SET keywords = array_remove(array_remove(keywords,
	'điện'), 'dien') || '{tiền điện,điện yếu,điện chập chờn,cột điện,dây điện,trạm biến áp,chập điện,không có điện,điện lực,đường dây điện}'
 WHERE code = 'electricity';
UPDATE pakn.category SET keywords = keywords || '{xác nhận tình trạng hôn nhân,tình trạng hôn nhân,trích lục,khai tử,đăng ký khai sinh,đăng ký kết hôn,bản sao}'
 WHERE code = 'certification';
UPDATE pakn.category SET keywords = keywords || '{tiền nước,nước sinh hoạt,giếng khoan,đường ống nước,nhiễm phèn}'
 WHERE code = 'clean_water';
UPDATE pakn.category SET keywords = keywords || '{cấp phép,cấp phép sửa chữa,sửa chữa nhà,xây nhà,xây dựng không phép,xây lấn}'
 WHERE code = 'construction_permit';
UPDATE pakn.category SET keywords = keywords || '{ngập úng,mưa to là ngập,nước mưa,rãnh thoát nước}'
 WHERE code = 'flooding';
UPDATE pakn.category SET keywords = keywords || '{ko trả lời,k trả lời,chưa trả lời,không phản hồi,ko phản hồi,cb xã,thái độ phục vụ,quát mắng,quát tháo,coi thường dân,chơi điện thoại,hẹn mai hẹn mốt,đi làm muộn,không có ai,tiếp dân,say rượu}'
 WHERE code = 'official_conduct';
UPDATE pakn.category SET keywords = keywords || '{cho học sinh,giáo viên chủ nhiệm,bán trú,lớp học,sách giáo khoa,học thêm}'
 WHERE code = 'primary_school';
UPDATE pakn.category SET keywords = keywords || '{đua xe,cướp giật,trộm cắp,trộm chó,bảo vệ an ninh,tụ tập}'
 WHERE code = 'public_security';
UPDATE pakn.category SET keywords = keywords || '{cầu tạm,cầu tạm qua suối,sập cầu,đường đất,biển báo,lầy lội,sụt lún,đường liên xã,đường thôn}'
 WHERE code = 'roads';
UPDATE pakn.category SET keywords = keywords || '{rác ngập ngụa,đổ rác,đổ rác bừa bãi,rác xây dựng,dọn rác}'
 WHERE code = 'waste';
UPDATE pakn.category SET keywords = keywords || '{cấp đổi sổ đỏ,sang tên sổ đỏ,đo đạc,lấn chiếm đất,sổ đỏ của}'
 WHERE code = 'land_certificate';
UPDATE pakn.category SET keywords = keywords || '{khai thác đá,khai thác trái phép,sạt lở núi,chặt gỗ,lâm tặc,rừng tự nhiên,phá rừng,hút cát,đào đất trái phép}'
 WHERE code = 'natural_resources';
UPDATE pakn.category SET keywords = keywords || '{tiền cho cán bộ,không qua thi tuyển}'
 WHERE code = 'corruption';

-- Fold Vietnamese for matching (pakn.fold of 003): also ð and Ð, which
-- some keyboards type for đ and Đ, as daemon/grammar.c folds them.
CREATE OR REPLACE FUNCTION pakn.fold(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT translate(lower(regexp_replace(normalize(s, NFD),
		'[\u0300-\u036f]', '', 'g')), 'đĐðÐ', 'dddd')
$$;
-- The stored keyword patterns are folded again.
UPDATE pakn.category SET keywords = keywords;
