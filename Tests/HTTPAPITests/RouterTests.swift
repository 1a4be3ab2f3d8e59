// Router in-process: matching, parameters, 404, 405 with Allow, HEAD, and error mapping.
import HTTPAPI
import JSON
import Log
import Testing

func testRouter() -> Router {
    var builder = RouterBuilder()
    builder.add("GET", "/v1/things") { _ in .json(["things": []]) }
    builder.add("POST", "/v1/things") { request in
        var reader = try JSONReader(try request.json())
        let name = try reader.string("name")
        try reader.finish()
        return .json(["name": JSON(name)], status: 201)
    }
    builder.add("GET", "/v1/things/{name}") { request in .json(["name": JSON(request.parameter("name"))]) }
    builder.add("DELETE", "/v1/things/{name}") { _ in HTTPResponse(status: 204) }
    builder.add("GET", "/v1/boom") { _ in
        struct Secret: Error {}
        throw Secret()
    }
    return builder.build(log: Log(label: "test"))
}

@Suite struct RouterTests {
    let router = testRouter()

    @Test func listsRoutesAsMethodAndTemplate() {
        #expect(router.routes == ["GET /v1/things", "POST /v1/things", "GET /v1/things/{name}",
                                  "DELETE /v1/things/{name}", "GET /v1/boom"])
    }

    @Test func matchesParameters() throws {
        let response = router.respond(to: HTTPRequest(method: "GET", path: "/v1/things/lab-1"))
        #expect(response.status == 200)
        #expect(try JSON.parse(response.body)["name"] == "lab-1")
        #expect(response.route == "/v1/things/{name}")
    }

    @Test func aLiteralSegmentOwnsItsPath() throws {
        var builder = RouterBuilder()
        builder.add("GET", "/v1/labs/{name}") { request in .json(["lab": JSON(request.parameter("name"))]) }
        builder.add("POST", "/v1/labs/plan") { _ in .json(["planned": true]) }
        let router = builder.build(log: Log(label: "test"))
        #expect(router.respond(to: HTTPRequest(method: "POST", path: "/v1/labs/plan")).status == 200)
        let get = router.respond(to: HTTPRequest(method: "GET", path: "/v1/labs/plan"))
        #expect(get.status == 405, "/v1/labs/plan is not the lab called plan")
        #expect(get.headers.first { $0.0 == "Allow" }?.1 == "POST")
        #expect(try JSON.parse(router.respond(to: HTTPRequest(method: "GET", path: "/v1/labs/net")).body)["lab"] == "net")
    }

    @Test func unknownPathIs404Problem() throws {
        let response = router.respond(to: HTTPRequest(method: "GET", path: "/v1/nothing/here"))
        #expect(response.status == 404)
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(try JSON.parse(response.body)["code"] == "not_found")
    }

    @Test func wrongMethodIs405WithAllow() throws {
        let response = router.respond(to: HTTPRequest(method: "PUT", path: "/v1/things/x"))
        #expect(response.status == 405)
        #expect(response.header("Allow") == "GET, DELETE, HEAD")
        #expect(try JSON.parse(response.body)["code"] == "method_not_allowed")
    }

    @Test func headIsServedByGet() {
        #expect(router.respond(to: HTTPRequest(method: "HEAD", path: "/v1/things")).status == 200)
    }

    @Test func fieldErrorsBecome400InvalidField() throws {
        let request = HTTPRequest(method: "POST", path: "/v1/things", headers: [("Content-Type", "application/json")],
                                  body: Array(#"{"name":"a","extra":1}"#.utf8))
        let response = router.respond(to: request)
        #expect(response.status == 400)
        let body = try JSON.parse(response.body)
        #expect(body["code"] == "invalid_field")
        #expect(body["field"] == "extra")
        #expect(body["detail"] == "field `extra` is not a known field")
    }

    @Test func wrongContentTypeIs415() throws {
        let request = HTTPRequest(method: "POST", path: "/v1/things", headers: [("Content-Type", "text/plain")], body: Array("x".utf8))
        let response = router.respond(to: request)
        #expect(response.status == 415)
        #expect(try JSON.parse(response.body)["code"] == "unsupported_media_type")
    }

    @Test func unknownErrorsBecome500WithoutInternals() throws {
        let response = router.respond(to: HTTPRequest(method: "GET", path: "/v1/boom", requestID: "r-1"))
        #expect(response.status == 500)
        let body = try JSON.parse(response.body)
        #expect(body["code"] == "internal")
        #expect(body["detail"]?.stringValue?.contains("Secret") == false)
        #expect(body["request_id"] == "r-1")
    }
}
