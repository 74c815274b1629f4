-- 003: PAPI dimensions, administrative units, complaint categories and
-- routing rules: the reference data a complaint is classified and routed by.

-- Fold Vietnamese for matching: lower case, no diacritics, đ -> d. Works
-- on composed (NFC) and decomposed (NFD) input alike.
CREATE FUNCTION pakn.fold(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT translate(lower(regexp_replace(normalize(s, NFD),
		'[\u0300-\u036f]', '', 'g')), 'đĐ', 'dd')
$$;

CREATE TABLE pakn.papi_dimension (
	code    smallint PRIMARY KEY CHECK (code BETWEEN 1 AND 8),
	name_vi text NOT NULL,
	name_en text NOT NULL,
	short_vi text NOT NULL
);
INSERT INTO pakn.papi_dimension VALUES
	(1, 'Tham gia của người dân ở cấp cơ sở', 'Participation at local levels', 'Tham gia'),
	(2, 'Công khai, minh bạch', 'Transparency', 'Minh bach'),
	(3, 'Trách nhiệm giải trình với người dân', 'Vertical accountability', 'Giai trinh'),
	(4, 'Kiểm soát tham nhũng trong khu vực công', 'Control of corruption in the public sector', 'Tham nhung'),
	(5, 'Thủ tục hành chính công', 'Public administrative procedures', 'Thu tuc HC'),
	(6, 'Cung ứng dịch vụ công', 'Public service delivery', 'Dich vu cong'),
	(7, 'Quản trị môi trường', 'Environmental governance', 'Moi truong'),
	(8, 'Quản trị điện tử', 'E-governance', 'Dien tu');

-- Administrative units: a tree of any depth. Communes, wards and townships
-- are kind 'commune'; a commune unit stands for its People's Committee.
CREATE TABLE pakn.unit (
	code        text PRIMARY KEY CHECK (code ~ '^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$'),
	name        text NOT NULL CHECK (name <> ''),
	parent_code text REFERENCES pakn.unit (code) DEFERRABLE INITIALLY DEFERRED,
	kind        text NOT NULL CHECK (kind IN ('province', 'district', 'commune', 'department')),
	phones      text[] NOT NULL DEFAULT '{}',
	updated_at  timestamptz NOT NULL DEFAULT now(),
	CHECK (parent_code IS DISTINCT FROM code)
);
CREATE INDEX unit_parent_idx ON pakn.unit (parent_code);

-- Refuse a parent that would make the tree a cycle.
CREATE FUNCTION pakn.unit_no_cycle() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	-- pakn.import_units checks the whole tree once instead.
	IF current_setting('pakn.importing', true) = 'on' THEN
		RETURN NEW;
	END IF;
	IF NEW.parent_code IS NOT NULL AND EXISTS (
		WITH RECURSIVE up(code, parent_code, depth) AS (
			SELECT u.code, u.parent_code, 1 FROM pakn.unit u
			 WHERE u.code = NEW.parent_code
			UNION ALL
			SELECT u.code, u.parent_code, up.depth + 1
			  FROM pakn.unit u JOIN up ON u.code = up.parent_code
			 WHERE up.depth < 64)
		SELECT 1 FROM up WHERE up.code = NEW.code) THEN
		RAISE EXCEPTION 'unit %: parent % would make a cycle',
			NEW.code, NEW.parent_code USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER unit_no_cycle BEFORE INSERT OR UPDATE OF parent_code
	ON pakn.unit FOR EACH ROW EXECUTE FUNCTION pakn.unit_no_cycle();

-- The unit and its ancestors, nearest first (distance 0 is the unit).
CREATE FUNCTION pakn.unit_ancestors(p_code text)
RETURNS TABLE (code text, kind text, distance integer)
LANGUAGE sql STABLE AS $$
	WITH RECURSIVE up(code, parent_code, kind, distance) AS (
		SELECT u.code, u.parent_code, u.kind, 0 FROM pakn.unit u
		 WHERE u.code = p_code
		UNION ALL
		SELECT u.code, u.parent_code, u.kind, up.distance + 1
		  FROM pakn.unit u JOIN up ON u.code = up.parent_code
		 WHERE up.distance < 64)
	SELECT code, kind, distance FROM up
$$;

-- Text folded to " word word ", so whole words match with strpos.
CREATE FUNCTION pakn.fold_words(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT ' ' || btrim(regexp_replace(pakn.fold(s), '[^a-z0-9]+', ' ', 'g'))
		|| ' '
$$;

-- The non-empty keywords of a category, folded as pakn.fold_words.
CREATE FUNCTION pakn.keyword_patterns(keywords text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT coalesce(array_agg(p), '{}') FROM (
		SELECT pakn.fold_words(k) AS p FROM unnest(keywords) k) x
	 WHERE p <> '  '
$$;

CREATE TABLE pakn.category (
	code          text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
	name          text NOT NULL,
	dimension     smallint NOT NULL REFERENCES pakn.papi_dimension (code),
	keywords      text[] NOT NULL DEFAULT '{}',
	patterns      text[] GENERATED ALWAYS AS
			(pakn.keyword_patterns(keywords)) STORED,
	sensitive     boolean NOT NULL DEFAULT false,
	deadline_days integer NOT NULL DEFAULT 15 CHECK (deadline_days BETWEEN 1 AND 365),
	working_days  boolean NOT NULL DEFAULT true,
	updated_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN pakn.category.keywords IS
	'words that select this category, matched folded (no diacritics, any case)';
COMMENT ON COLUMN pakn.category.sensitive IS
	'reports are anonymous even to leaders (corruption)';

INSERT INTO pakn.category (code, name, dimension, keywords, sensitive, deadline_days) VALUES
	('general', 'Phản ánh chung', 3, '{}', false, 15),
	('meeting', 'Họp dân, lấy ý kiến người dân', 1, '{họp dân,hop dan,lấy ý kiến,lay y kien,bầu trưởng thôn,bau truong thon}', false, 15),
	('contribution', 'Đóng góp, huy động tiền của dân', 1, '{đóng góp,dong gop,thu tiền,thu tien,huy động,huy dong}', false, 15),
	('poverty_list', 'Danh sách hộ nghèo', 2, '{hộ nghèo,ho ngheo,cận nghèo,can ngheo,danh sách nghèo,danh sach ngheo}', false, 15),
	('land_plan', 'Quy hoạch, kế hoạch sử dụng đất', 2, '{quy hoạch,quy hoach,giá đền bù,gia den bu,đền bù,den bu,thu hồi đất,thu hoi dat}', false, 30),
	('commune_budget', 'Thu chi ngân sách xã', 2, '{ngân sách,ngan sach,thu chi,công khai tài chính,cong khai tai chinh}', false, 15),
	('official_conduct', 'Thái độ, trách nhiệm cán bộ', 3, '{cán bộ,can bo,thái độ,thai do,hách dịch,hach dich,không trả lời,khong tra loi}', false, 15),
	('corruption', 'Tham nhũng, hối lộ, tiêu cực', 4, '{tham nhũng,tham nhung,hối lộ,hoi lo,tiền lót tay,tien lot tay,lót tay,lot tay,bôi trơn,boi tron,phong bì,phong bi,tiêu cực,tieu cuc,ăn chặn,an chan}', true, 30),
	('land_certificate', 'Giấy chứng nhận quyền sử dụng đất', 5, '{sổ đỏ,so do,sổ hồng,so hong,giấy chứng nhận,giay chung nhan,đất đai,dat dai,tranh chấp đất,tranh chap dat}', false, 30),
	('construction_permit', 'Giấy phép xây dựng', 5, '{giấy phép xây dựng,giay phep xay dung,xây dựng,xay dung,xây trái phép,xay trai phep}', false, 20),
	('certification', 'Chứng thực, hộ tịch', 5, '{chứng thực,chung thuc,công chứng,cong chung,khai sinh,khai sinh,hộ tịch,ho tich,kết hôn,ket hon}', false, 5),
	('one_stop_delay', 'Trễ hẹn bộ phận một cửa', 5, '{một cửa,mot cua,trễ hẹn,tre hen,chậm trả,cham tra,hồ sơ,ho so}', false, 5),
	('health_station', 'Trạm y tế xã', 6, '{trạm y tế,tram y te,y tế,y te,bác sĩ,bac si,bảo hiểm y tế,bao hiem y te,bhyt}', false, 10),
	('primary_school', 'Trường tiểu học', 6, '{trường học,truong hoc,tiểu học,tieu hoc,giáo viên,giao vien,học phí,hoc phi,học sinh,hoc sinh}', false, 10),
	('electricity', 'Điện', 6, '{điện,dien,mất điện,mat dien,cúp điện,cup dien,đèn đường,den duong}', false, 7),
	('roads', 'Đường giao thông', 6, '{đường,duong,ổ gà,o ga,giao thông,giao thong,đường hỏng,duong hong}', false, 15),
	('clean_water', 'Nước sạch', 6, '{nước sạch,nuoc sach,nước máy,nuoc may,mất nước,mat nuoc,nước bẩn,nuoc ban}', false, 7),
	('public_security', 'An ninh trật tự', 6, '{an ninh,trộm,trom,cướp,cuop,đánh nhau,danh nhau,ma túy,ma tuy,cờ bạc,co bac,trật tự,trat tu}', false, 7),
	('flooding', 'Ngập úng, thoát nước', 6, '{ngập,ngap,ngập nước,ngap nuoc,thoát nước,thoat nuoc}', false, 7),
	('waste', 'Rác thải, vệ sinh môi trường', 7, '{rác,rac,rác thải,rac thai,thu gom rác,thu gom rac,bãi rác,bai rac}', false, 7),
	('pollution', 'Ô nhiễm môi trường', 7, '{ô nhiễm,o nhiem,khói bụi,khoi bui,mùi hôi,mui hoi,tiếng ồn,tieng on,xả thải,xa thai}', false, 15),
	('natural_resources', 'Khai thác tài nguyên trái phép', 7, '{khai thác cát,khai thac cat,chặt phá rừng,chat pha rung,khoáng sản,khoang san}', false, 15),
	('online_service', 'Dịch vụ công trực tuyến', 8, '{trực tuyến,truc tuyen,dịch vụ công,dich vu cong,cổng dịch vụ,cong dich vu,vneid,online}', false, 5),
	('commune_website', 'Cổng thông tin điện tử xã', 8, '{cổng thông tin,cong thong tin,website,trang web,thông tin điện tử,thong tin dien tu}', false, 10);

-- Which unit answers a category in an area. The most specific rule wins:
-- the deepest area containing the complaint's location, then a rule for
-- the category over one for any category (category_code NULL).
CREATE TABLE pakn.routing_rule (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	category_code text REFERENCES pakn.category (code),
	area_code     text NOT NULL REFERENCES pakn.unit (code),
	unit_code     text NOT NULL REFERENCES pakn.unit (code),
	UNIQUE NULLS NOT DISTINCT (category_code, area_code)
);
