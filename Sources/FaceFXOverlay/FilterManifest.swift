// filter.json: the Codable description of one filter (a list of elements drawn in order).
// Decoding is strict: unknown fields and kinds are errors, so a typo never silently does nothing.
// Filters/filter.schema.json describes the same format for editors; keep the two in step.
import Foundation

/// One filter pack's manifest.
public struct FilterManifest: Decodable, Equatable {
    public var name: String
    public var description: String
    public var elements: [FilterElement]

    enum CodingKeys: String, CodingKey, CaseIterable { case schema = "$schema", name, description, elements }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        elements = try c.decode([FilterElement].self, forKey: .elements)
    }
}

/// Element kinds. `CaseIterable` so the schema test and error messages list them all.
public enum ElementKind: String, CaseIterable, Decodable {
    case mesh, sprite, blur, pixelate, tint, debug
}

/// One drawn element. Common fields first; `content` holds the kind's own fields.
public struct FilterElement: Decodable, Equatable {
    public var kind: ElementKind
    /// Shown only while every condition holds (blendshapes, emotions); nil = always.
    public var when: Condition?
    /// Seconds to fade in/out when `when` changes (0 = at once).
    public var fade: Double
    /// 0…1, multiplies the element's coverage.
    public var opacity: Double
    public var content: Content

    public enum Content: Equatable {
        case mesh(MeshElement)
        case sprite(SpriteElement)
        case blur(BlurElement)
        case pixelate(PixelateElement)
        case tint(TintElement)
        case debug(DebugElement)
    }

    static let commonKeys = ["kind", "when", "fade", "opacity", "comment"]
    enum CommonKeys: String, CodingKey { case kind, when, fade, opacity }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CommonKeys.self)
        let kindName = try c.decode(String.self, forKey: .kind)
        guard let k = ElementKind(rawValue: kindName) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription:
                "unknown element kind '\(kindName)' (expected \(ElementKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        kind = k
        when = try c.decodeIfPresent(Condition.self, forKey: .when)
        fade = try c.decodeIfPresent(Double.self, forKey: .fade) ?? 0
        opacity = try c.decodeIfPresent(Double.self, forKey: .opacity) ?? 1
        try RangeCheck.check(fade, 0...60, .fade, c)
        try RangeCheck.check(opacity, 0...1, .opacity, c)
        switch k {
        case .mesh:
            try StrictKeys.check(decoder, allowed: Self.commonKeys + MeshElement.CodingKeys.allCases.map(\.rawValue))
            content = .mesh(try MeshElement(from: decoder))
        case .sprite:
            try StrictKeys.check(decoder, allowed: Self.commonKeys + SpriteElement.CodingKeys.allCases.map(\.rawValue))
            content = .sprite(try SpriteElement(from: decoder))
        case .blur:
            try StrictKeys.check(decoder, allowed: Self.commonKeys + BlurElement.CodingKeys.allCases.map(\.rawValue))
            content = .blur(try BlurElement(from: decoder))
        case .pixelate:
            try StrictKeys.check(decoder, allowed: Self.commonKeys + PixelateElement.CodingKeys.allCases.map(\.rawValue))
            content = .pixelate(try PixelateElement(from: decoder))
        case .tint:
            try StrictKeys.check(decoder, allowed: Self.commonKeys + TintElement.CodingKeys.allCases.map(\.rawValue))
            content = .tint(try TintElement(from: decoder))
        case .debug:
            try StrictKeys.check(decoder, allowed: Self.commonKeys + DebugElement.CodingKeys.allCases.map(\.rawValue))
            content = .debug(try DebugElement(from: decoder))
        }
    }

    /// Asset file names this element reads (relative to the filter folder), with their field names.
    var assets: [(field: String, path: String)] {
        switch content {
        case .mesh(let m): return [("texture", m.texture)]
        case .sprite(let s): return [("image", s.image)]
        default: return []
        }
    }
}

/// Painted texture in the canonical face mesh's UV space, drawn on the tracked mesh.
public struct MeshElement: Decodable, Equatable {
    public var texture: String
    /// Triangles to drop: named regions ("leftEye", "rightEye", "eyes", "mouth") or landmark index lists.
    public var holes: [HoleSpec]

    enum CodingKeys: String, CodingKey, CaseIterable { case texture, holes }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        texture = try c.decode(String.self, forKey: .texture)
        holes = try c.decodeIfPresent([HoleSpec].self, forKey: .holes) ?? []
    }
}

public enum HoleSpec: Decodable, Equatable {
    case named(String)
    case landmarks([Int])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let name = try? c.decode(String.self) {
            guard FaceRegions.holes[name] != nil else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription:
                    "unknown hole '\(name)' (expected \(FaceRegions.holes.keys.sorted().joined(separator: ", ")) or a list of landmark indices)")
            }
            self = .named(name)
        } else {
            let list = try c.decode([Int].self)
            guard list.count >= 3, list.allSatisfy({ (0..<FaceRegions.meshCount).contains($0) }) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "a hole needs ≥ 3 landmark indices in 0…467")
            }
            self = .landmarks(list)
        }
    }

    var indices: Set<Int> {
        switch self {
        case .named(let n): return Set(FaceRegions.holes[n] ?? [])
        case .landmarks(let l): return Set(l)
        }
    }
}

/// A PNG placed on the face by landmark anchors, as a flat quad in 3-D (face axes), depth-tested
/// against the head occluder.
public struct SpriteElement: Decodable, Equatable {
    public struct Anchor: Decodable, Equatable {
        /// Landmark index (0…477).
        public var landmark: Int
        /// The image pixel (x right, y down) that sits on the landmark.
        public var at: [Double]
        enum CodingKeys: String, CodingKey, CaseIterable { case landmark, at }
        public init(from decoder: Decoder) throws {
            try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            landmark = try c.decode(Int.self, forKey: .landmark)
            at = try c.decode([Double].self, forKey: .at)
            guard (0..<FaceRegions.landmarkCount).contains(landmark) else {
                throw DecodingError.dataCorruptedError(forKey: .landmark, in: c, debugDescription: "landmark \(landmark) is not in 0…477")
            }
            guard at.count == 2 else {
                throw DecodingError.dataCorruptedError(forKey: .at, in: c, debugDescription: "expected [x, y] image pixels")
            }
        }
        public init(landmark: Int, at: [Double]) { self.landmark = landmark; self.at = at }
    }

    public enum Plane: String, Decodable, Equatable {
        /// The face's own plane: image x → across the face (eye to eye), image y → down the face.
        case front
        /// Edge-on to the camera for a frontal face: image x → backwards into the head, image y → down
        /// (glasses temples, which show as the head turns and hide behind it).
        case side
    }

    public var image: String
    public var anchors: [Anchor]
    /// Sprite width in inter-ocular units (3-D distance of landmarks 33–263); needed with one anchor.
    public var width: Double?
    public var plane: Plane
    /// Shift in inter-ocular units along the face axes: x across, y down, z into the head (negative: toward the camera).
    public var offset: [Double]
    /// Depth-tested against the head occluder (default true).
    public var occluded: Bool

    enum CodingKeys: String, CodingKey, CaseIterable { case image, anchors, width, plane, offset, occluded }
    /// Largest offset and width, inter-ocular units.
    static let maxExtent = 50.0

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        image = try c.decode(String.self, forKey: .image)
        anchors = try c.decode([Anchor].self, forKey: .anchors)
        width = try c.decodeIfPresent(Double.self, forKey: .width)
        plane = try c.decodeIfPresent(Plane.self, forKey: .plane) ?? .front
        offset = try c.decodeIfPresent([Double].self, forKey: .offset) ?? [0, 0, 0]
        occluded = try c.decodeIfPresent(Bool.self, forKey: .occluded) ?? true
        guard (1...3).contains(anchors.count) else {
            throw DecodingError.dataCorruptedError(forKey: .anchors, in: c, debugDescription: "expected 1, 2 or 3 anchors, got \(anchors.count)")
        }
        if anchors.count == 1 {
            guard let w = width, w > 0 else {
                throw DecodingError.dataCorruptedError(forKey: .width, in: c, debugDescription: "a sprite with one anchor needs a positive width")
            }
        }
        guard offset.count == 3 else {
            throw DecodingError.dataCorruptedError(forKey: .offset, in: c, debugDescription: "expected [x, y, z]")
        }
        // Inter-ocular units: a head is about 3 wide; beyond the limit a sprite is far off the picture.
        guard offset.allSatisfy({ abs($0) <= Self.maxExtent }) else {
            throw DecodingError.dataCorruptedError(forKey: .offset, in: c, debugDescription: "each value must be within ±\(Int(Self.maxExtent)) inter-ocular units")
        }
        if let w = width, !(w > 0 && w <= Self.maxExtent) {
            throw DecodingError.dataCorruptedError(forKey: .width, in: c, debugDescription: "expected more than 0 and at most \(Int(Self.maxExtent)) inter-ocular units")
        }
    }
}

/// Gaussian blur over the face hull plus a margin (anonymisation).
public struct BlurElement: Decodable, Equatable {
    /// Hull grown by this many inter-ocular units.
    public var margin: Double
    /// Blur sigma as a fraction of the face width.
    public var strength: Double
    /// Soft edge width, inter-ocular units.
    public var feather: Double
    enum CodingKeys: String, CodingKey, CaseIterable { case margin, strength, feather }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        margin = try c.decodeIfPresent(Double.self, forKey: .margin) ?? 0.3
        strength = try c.decodeIfPresent(Double.self, forKey: .strength) ?? 0.06
        feather = try c.decodeIfPresent(Double.self, forKey: .feather) ?? 0.15
        try RangeCheck.check(margin, 0...5, .margin, c)
        try RangeCheck.check(strength, 0.001...0.5, .strength, c)
        try RangeCheck.check(feather, 0...2, .feather, c)
    }
}

/// Mosaic over the face hull plus a margin.
public struct PixelateElement: Decodable, Equatable {
    /// Cells across the face hull's width.
    public var cells: Int
    public var margin: Double
    public var feather: Double
    enum CodingKeys: String, CodingKey, CaseIterable { case cells, margin, feather }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cells = try c.decodeIfPresent(Int.self, forKey: .cells) ?? 10
        margin = try c.decodeIfPresent(Double.self, forKey: .margin) ?? 0.3
        feather = try c.decodeIfPresent(Double.self, forKey: .feather) ?? 0.05
        guard (2...128).contains(cells) else {
            throw DecodingError.dataCorruptedError(forKey: .cells, in: c, debugDescription: "expected 2…128 cells, got \(cells)")
        }
        try RangeCheck.check(margin, 0...5, .margin, c)
        try RangeCheck.check(feather, 0...2, .feather, c)
    }
}

/// Colour over a landmark region (lipstick, eye shadow) with soft edges.
public struct TintElement: Decodable, Equatable {
    public enum Region: String, Decodable, Equatable, CaseIterable { case lips, eyeshadow, polygon }
    public enum Mode: String, Decodable, Equatable, CaseIterable { case multiply, overlay, normal }
    public var region: Region
    /// Closed loop of landmark indices for `region: "polygon"`.
    public var landmarks: [Int]
    /// Linear RGB-ish triple as "#rrggbb" (sRGB-encoded like the video).
    public var color: SIMD3<Double>
    public var mode: Mode
    public var strength: Double
    /// Soft edge width, inter-ocular units.
    public var feather: Double
    enum CodingKeys: String, CodingKey, CaseIterable { case region, landmarks, color, mode, strength, feather }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        region = try c.decode(Region.self, forKey: .region)
        landmarks = try c.decodeIfPresent([Int].self, forKey: .landmarks) ?? []
        let hex = try c.decode(String.self, forKey: .color)
        guard let rgb = TintElement.parseColor(hex) else {
            throw DecodingError.dataCorruptedError(forKey: .color, in: c, debugDescription: "expected \"#rrggbb\", got '\(hex)'")
        }
        color = rgb
        mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? .multiply
        strength = try c.decodeIfPresent(Double.self, forKey: .strength) ?? 0.6
        feather = try c.decodeIfPresent(Double.self, forKey: .feather) ?? 0.04
        try RangeCheck.check(strength, 0...1, .strength, c)
        try RangeCheck.check(feather, 0...2, .feather, c)
        if region == .polygon {
            guard landmarks.count >= 3, landmarks.allSatisfy({ (0..<FaceRegions.landmarkCount).contains($0) }) else {
                throw DecodingError.dataCorruptedError(forKey: .landmarks, in: c, debugDescription: "a polygon needs ≥ 3 landmark indices in 0…477")
            }
        }
    }

    static func parseColor(_ s: String) -> SIMD3<Double>? {
        guard s.hasPrefix("#"), s.count == 7, let v = UInt32(s.dropFirst(), radix: 16) else { return nil }
        return SIMD3(Double((v >> 16) & 255), Double((v >> 8) & 255), Double(v & 255)) / 255
    }
}

/// Landmark dots, face id digits and pose axes.
public struct DebugElement: Decodable, Equatable {
    public var landmarks: Bool
    public var ids: Bool
    public var axes: Bool
    /// Dot radius in pixels at 1080p (scaled with the frame height).
    public var dotRadius: Double
    enum CodingKeys: String, CodingKey, CaseIterable { case landmarks, ids, axes, dotRadius }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        landmarks = try c.decodeIfPresent(Bool.self, forKey: .landmarks) ?? true
        ids = try c.decodeIfPresent(Bool.self, forKey: .ids) ?? true
        axes = try c.decodeIfPresent(Bool.self, forKey: .axes) ?? true
        dotRadius = try c.decodeIfPresent(Double.self, forKey: .dotRadius) ?? 2.5
        try RangeCheck.check(dotRadius, 0.5...20, .dotRadius, c)
    }
}

// MARK: conditions

/// `when`: every entry must hold. Keys are blendshape names (`"jawOpen": ">0.4"`), emotion names
/// (`"happy": ">0.6"`), `"emotion": "happy"` (the most probable emotion), a classifier's labels
/// (`"class_tongue": ">0.6"`, with `--classifier`) or `"class": "tongue"` (its most probable label).
public struct Condition: Decodable, Equatable {
    public enum Test: Equatable {
        case compare(key: String, op: Comparison, value: Double)
        case emotionIs(String)
        case classIs(String)
    }
    /// Prefix of the keys that test a classifier's label (`OverlayFace.classes`).
    public static let classPrefix = "class_"
    public enum Comparison: String, Equatable { case gt = ">", ge = ">=", lt = "<", le = "<=" }
    public var tests: [Test]

    public init(tests: [Test]) { self.tests = tests }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        var tests: [Test] = []
        for key in c.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
            let text = try c.decode(String.self, forKey: key)
            if key.stringValue == "emotion" {
                guard FaceRegions.emotionNames.contains(text) else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription:
                        "unknown emotion '\(text)' (expected \(FaceRegions.emotionNames.joined(separator: ", ")))")
                }
                tests.append(.emotionIs(text))
                continue
            }
            // Class labels are checked against the classifier when a render starts (`classLabels`).
            if key.stringValue == "class" {
                tests.append(.classIs(text))
                continue
            }
            let isClass = key.stringValue.hasPrefix(Condition.classPrefix) && key.stringValue.count > Condition.classPrefix.count
            guard isClass || FaceRegions.blendshapeNames.contains(key.stringValue) || FaceRegions.emotionNames.contains(key.stringValue) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription:
                    "'\(key.stringValue)' is neither a blendshape, an emotion, \"emotion\", class_<label> nor \"class\"")
            }
            guard let t = Condition.parseComparison(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription:
                    "expected a comparison such as \">0.4\" or \"<=0.2\", got '\(text)'")
            }
            tests.append(.compare(key: key.stringValue, op: t.0, value: t.1))
        }
        self.tests = tests
    }

    static func parseComparison(_ s: String) -> (Comparison, Double)? {
        let t = s.replacingOccurrences(of: " ", with: "")
        for op in [Comparison.ge, .le, .gt, .lt] where t.hasPrefix(op.rawValue) {
            guard let v = Double(t.dropFirst(op.rawValue.count)) else { return nil }
            return (op, v)
        }
        return nil
    }

    /// The classifier labels the tests refer to (each must be one of the `--classifier`'s labels).
    public var classLabels: Set<String> {
        Set(tests.compactMap { test in
            switch test {
            case .classIs(let label): return label
            case .compare(let key, _, _) where key.hasPrefix(Condition.classPrefix): return String(key.dropFirst(Condition.classPrefix.count))
            default: return nil
            }
        })
    }

    /// True when every test holds for these scores (missing scores count as 0; `classes` by label).
    public func holds(blendshapes: [String: Float], emotions: [String: Float], classes: [String: Float] = [:]) -> Bool {
        tests.allSatisfy { test in
            switch test {
            case .emotionIs(let name):
                guard let best = emotions.max(by: { $0.value < $1.value }) else { return false }
                return best.key == name
            case .classIs(let label):
                guard let best = classes.max(by: { $0.value < $1.value }) else { return false }
                return best.key == label
            case .compare(let key, let op, let value):
                // Compared in Float, the scores' own precision (0.4 as a Float is above 0.4 as a Double).
                let x = key.hasPrefix(Condition.classPrefix) ? classes[String(key.dropFirst(Condition.classPrefix.count))] ?? 0
                    : blendshapes[key] ?? emotions[key] ?? 0
                let value = Float(value)
                switch op {
                case .gt: return x > value
                case .ge: return x >= value
                case .lt: return x < value
                case .le: return x <= value
                }
            }
        }
    }
}

// MARK: decoding helpers

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

enum StrictKeys {
    /// Throws for a key outside `allowed`, naming it (typos must not be silently ignored).
    static func check(_ decoder: Decoder, allowed: [String]) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        for key in c.allKeys where !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription:
                "unknown field (expected one of \(allowed.filter { $0 != "comment" && $0 != "$schema" }.joined(separator: ", ")))")
        }
    }
}

enum RangeCheck {
    static func check<K: CodingKey>(_ v: Double, _ r: ClosedRange<Double>, _ key: K, _ c: KeyedDecodingContainer<K>) throws {
        guard r.contains(v) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(v) is outside \(r.lowerBound)…\(r.upperBound)")
        }
    }
}
